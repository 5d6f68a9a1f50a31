// Stub stage1 helper (tests only): prints one line per app of ./pod: the app name, then its exec words
// shell-quoted, for the run script to eval.
const fs = require('fs');
const m = JSON.parse(fs.readFileSync('pod', 'utf8'));
const q = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
for (const a of m.apps) console.log(a.name + ' ' + a.app.exec.map(q).join(' '));
