#!/usr/bin/env node
/** CDK entry: `npx cdk synth` / `npx cdk deploy` (stage from `-c stage=prod`, default `dev`). */
import { buildApp } from '../lib/app.js';

buildApp().app.synth();
