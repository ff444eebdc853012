/** Setup file of the infra project: after each file, the CDK assembly folders its synth tests made are removed. */
import { afterAll } from 'vitest';
import { removeSynthFolders } from './cdk.js';

afterAll(() => removeSynthFolders());
