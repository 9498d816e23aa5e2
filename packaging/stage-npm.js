#!/usr/bin/env node
'use strict'
// Lays out the npm packages `make dist` packs, as napi-rs lays them out:
//
//   node packaging/stage-npm.js VERSION STAGE PACKAGE_DIR PLATFORM=ADDON...
//
// For each PLATFORM (`linux-x64-gnu`, ...): STAGE/imds-PLATFORM/ holding ADDON as
// `imds.PLATFORM.node` and a package.json whose `os`, `cpu` and `libc` let npm install it only
// where it loads. Then STAGE/imds/: the main package (PACKAGE_DIR's `bin/`, `lib/`, `index.d.ts`,
// README.md, package.json), VERSION everywhere, and every platform package as an optional
// dependency at that exact version; lib/native.js picks the one installed. Packing is left to
// `npm pack` (mk/dist.mk).

const fs = require('node:fs')
const path = require('node:path')

const [version, stage, packageDir, ...addons] = process.argv.slice(2)
if (!version || !stage || !packageDir || addons.length === 0) {
  console.error('usage: stage-npm.js VERSION STAGE PACKAGE_DIR PLATFORM=ADDON...')
  process.exit(2)
}

const source = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'))
const CPU = { x64: 'x64', arm64: 'arm64' }
const LIBC = { gnu: 'glibc', musl: 'musl' }
const SYSTEM = { gnu: 'glibc 2.17 or later (Amazon Linux 2, Debian, Ubuntu, RHEL 7+)', musl: 'musl (Alpine)' }

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)
}

fs.rmSync(stage, { recursive: true, force: true })
const optionalDependencies = {}
for (const spec of addons) {
  const [platform, addon] = spec.split('=')
  const [os, arch, libc] = platform.split('-')
  if (!CPU[arch] || !LIBC[libc] || !fs.existsSync(addon)) {
    console.error(`stage-npm.js: ${spec}: expected linux-{x64,arm64}-{gnu,musl}=PATH_OF_AN_ADDON`)
    process.exit(2)
  }
  const name = `${source.name}-${platform}`
  const dir = path.join(stage, name)
  const file = `${source.name}.${platform}.node`
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(addon, path.join(dir, file))
  writeJson(path.join(dir, 'package.json'), {
    name,
    version,
    description: `The ${source.name} addon for ${os} ${arch} with ${SYSTEM[libc]}; installed by the ${source.name} package`,
    license: source.license,
    main: file,
    files: [file],
    os: [os],
    cpu: [CPU[arch]],
    libc: [LIBC[libc]],
    engines: source.engines,
  })
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# ${name}\n\nThe native addon of [\`${source.name}\`](https://www.npmjs.com/package/${source.name}) for ` +
      `${os} ${arch} with ${SYSTEM[libc]}. Install \`${source.name}\`: npm adds this package where it fits.\n`,
  )
  optionalDependencies[name] = version
}

const main = path.join(stage, source.name)
fs.mkdirSync(main, { recursive: true })
for (const entry of ['bin', 'lib', 'index.d.ts', 'README.md']) {
  const from = path.join(packageDir, entry)
  if (!fs.existsSync(from)) {
    console.error(`stage-npm.js: ${from} is missing; the main package needs it`)
    process.exit(1)
  }
  fs.cpSync(from, path.join(main, entry), { recursive: true })
}
const manifest = { ...source, version, optionalDependencies }
delete manifest.devDependencies
delete manifest.scripts
writeJson(path.join(main, 'package.json'), manifest)
console.log(`stage-npm.js: ${source.name}@${version} and ${Object.keys(optionalDependencies).join(', ')} in ${stage}`)
