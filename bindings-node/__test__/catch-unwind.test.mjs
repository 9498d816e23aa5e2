// Every function the addon exports to JavaScript is `#[napi(catch_unwind)]`, so a panic becomes a
// JavaScript exception instead of aborting Node. Checked on the sources: an export added without
// it fails here.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { packageDir } from './mock.mjs'

/** `{file, line, attribute, item}` for every `#[napi...]` attribute in `source`. */
function napiAttributes(file, source) {
  const found = []
  const pattern = /#\[napi(\((?:[^()]|\([^()]*\))*\))?\]/g
  for (let match; (match = pattern.exec(source)) !== null; ) {
    const rest = source.slice(pattern.lastIndex)
    // The item the attribute applies to: the next line that is not an attribute or a comment.
    const item = rest
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0 && !l.startsWith('#[') && !l.startsWith('//') && !l.startsWith(')]') && !l.startsWith('ts_arg_type'))
    found.push({ file, line: source.slice(0, match.index).split('\n').length, attribute: match[0], item })
  }
  return found
}

test('every exported function catches panics', () => {
  const srcDir = path.join(packageDir, 'src')
  const attributes = readdirSync(srcDir)
    .filter((f) => f.endsWith('.rs'))
    .flatMap((f) => napiAttributes(f, readFileSync(path.join(srcDir, f), 'utf8')))
  const functions = attributes.filter((a) => /^pub (const )?fn\b/.test(a.item))
  assert.ok(functions.length >= 25, `found only ${functions.length} exported functions; is the scan broken?`)
  const missing = functions.filter((a) => !a.attribute.includes('catch_unwind')).map((a) => `${a.file}:${a.line} ${a.item}`)
  assert.deepEqual(missing, [])
})
