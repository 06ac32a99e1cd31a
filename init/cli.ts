import { run } from './main';

// dist/roroot.js: `node roroot.js COMMAND ...`.
run(process.argv.slice(2));
