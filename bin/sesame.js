#!/usr/bin/env -S node --max-semi-space-size=4
// V8's young generation grows to 32 MB under load and stays there; 4 MB semi-spaces keep peak RSS
// under 200 MB at full load for a few percent of throughput (README, Benchmark). `npm start` passes
// the same flag.
// The compiled CLI; `npm install` builds dist/ through the `prepare` script.
import '../dist/main.js';
