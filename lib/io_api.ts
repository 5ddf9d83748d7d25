/** dn.io (here, not in lib/io/, which knows no model class): models to and from other runtimes' formats as bytes (model.save / dn.loadModel write and read the files). */
import type { Sequential } from './models/sequential';
import { toOnnx as onnxOf, toTorch as torchOf } from './models/save';

/** The model as an ONNX ModelProto (IR 8, opset 17, dynamic batch): what model.save(path, { format: 'onnx' }) writes. */
export function toOnnx(model: Sequential, options: { foldBatchNorm?: boolean } = {}): Uint8Array {
  return onnxOf(model, options);
}

/** The model as a PyTorch state dict in safetensors: what model.save(path, { format: 'torch' }) writes. */
export function toTorch(model: Sequential): Uint8Array {
  return torchOf(model);
}

export { ONNX_IR_VERSION, ONNX_OPSET } from './io/onnx';
export type { TorchModule } from './io/torch_format';
