// Checks every file of a bag's manifest with bagit-fs (github.com/joehand/bagit-fs),
// a BagIt implementation written without Sijill's code: its readFile re-hashes a
// payload file and compares it with the manifest line. Prints one line per file
// and exits 1 when any file fails, 2 when the manifest cannot be read.
const BagIt = require(process.argv[2])
const bag = BagIt(process.argv[3])
bag.readManifest(function (err, entries) {
  if (err) { console.error(err.message); process.exit(2) }
  entries = entries.filter(function (e) { return e.name })
  if (!entries.length) { console.error('empty manifest'); process.exit(2) }
  let pending = entries.length
  let bad = 0
  entries.forEach(function (e) {
    bag.readFile(e.name.replace(/^data\//, ''), function (err) {
      if (err) { bad++; console.log('FAIL ' + e.name + ': ' + err.message) } else console.log('OK ' + e.name)
      if (--pending === 0) process.exit(bad ? 1 : 0)
    })
  })
})
