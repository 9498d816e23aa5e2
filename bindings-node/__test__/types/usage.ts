// Compiled with `tsc --noEmit --strict` by types.test.mjs: the package's types accept what the
// README shows, fit AWS SDK v3's `credentials`, and refuse what they should.

import { STSClient } from '@aws-sdk/client-sts'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { fromInstanceMetadata, get, loadSettings, Client, drive, closeConnection, errorCodes } from 'imds'
import type { ImdsError, ImdsErrorCode, ImdsProviderError, Options, Credentials } from 'imds'

const options: Options = {
  endpoint: 'http://127.0.0.1:1338',
  endpointMode: 'IPv6',
  v1Disabled: true,
  timeout: 0.5,
  attempts: 2,
  instanceProfileName: 'my-role',
  tokenTtl: 600,
  credentialsApi: 'extended',
  refreshWindow: 120,
  disabled: false,
  logger: console,
  env: { AWS_PROFILE: 'x' },
}

const provider = fromInstanceMetadata(options)
const asSdkProvider: AwsCredentialIdentityProvider = provider
new STSClient({ region: 'us-east-1', credentials: provider })
void asSdkProvider

async function use(): Promise<void> {
  const credentials: Credentials = await provider()
  const expires: Date = credentials.expiration
  const account: string | undefined = credentials.accountId
  const region: string = await get('placement/region')
  void expires, account, region
  try {
    await provider()
  } catch (error) {
    const code: ImdsErrorCode = (error as ImdsError).code
    const next: boolean = (error as ImdsProviderError).tryNextLink
    const name: 'CredentialsProviderError' = (error as ImdsProviderError).name
    void code, next, name
  }
  const settings = loadSettings({ timeout: 1 })
  const source: 'default' | 'profile' | 'env' | 'code' = settings.timeout.source
  const client = new Client(settings)
  client.startCredentials(performance.now())
  const action = client.poll(performance.now())
  if (action.kind === 'connect') {
    const port: number = action.port
    void port
  } else if (action.kind === 'send') {
    const data: string = action.data
    void data
  }
  await drive(client)
  closeConnection(client)
  provider.close()
  const codes: ImdsErrorCode[] = errorCodes()
  void source, codes
}
void use

// @ts-expect-error: not an option
fromInstanceMetadata({ endpont: 'http://127.0.0.1:1338' })
// @ts-expect-error: timeout is seconds as a number or text, not an object
fromInstanceMetadata({ timeout: { seconds: 1 } })
