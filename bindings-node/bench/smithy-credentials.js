'use strict'
// The per-process baseline: what a Node tool does with @smithy/credential-provider-imds to print
// the same credential_process JSON as `imds credentials` (endpoint from
// AWS_EC2_METADATA_SERVICE_ENDPOINT, as for the imds command).

const { fromInstanceMetadata } = require('@smithy/credential-provider-imds')

fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })().then(
  (c) => {
    const json = {
      Version: 1,
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      SessionToken: c.sessionToken,
      Expiration: c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    }
    if (c.accountId) json.AccountId = c.accountId
    process.stdout.write(`${JSON.stringify(json)}\n`)
  },
  (error) => {
    process.stderr.write(`smithy: ${error.message}\n`)
    process.exitCode = 1
  },
)
