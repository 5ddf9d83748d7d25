#!/usr/bin/env node
'use strict';
require('../dist/cli/main.js').cli(process.argv.slice(2));
