// Answers one request on stdin with the real implementations' decisions
// on stdout (see modes.mjs for the request and the rows):
//
//   echo '{"mode":"unleash","splits":[{"flag":"f","weights":[["a",1],["b",1]],"keys":["u1"]}]}' | node oracle.mjs
//
// tests/testsuite/bucketing_modes.rs sends it thousands of random keys.
import { answer } from './modes.mjs';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) {
  input += chunk;
}
process.stdout.write(JSON.stringify(answer(JSON.parse(input))));
