// ES module entry: the CommonJS build's named exports, plus a default export.
import cjs from '../dist/index.js';

export * from '../dist/index.js';
export default cjs;
