/**
 * Templates (docs/data-model.md, "Templates"): one item per template, with
 * its state per WABA and per number in two maps.
 */
import * as z from 'zod';
import type { TemplateStatus } from '../../../../schemas/templates.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity, word } from './entity.js';

const wabaState = z.object({
  status: word<TemplateStatus | 'SUBMITTING'>(),
  reason: z.string().optional(),
  metaTemplateId: z.string().optional(),
  updatedAt: z.string(),
  metaAt: z.string().optional(),
});

const numberState = z.object({
  wabaId: z.string(),
  status: word<TemplateStatus>(),
  reason: z.string().optional(),
  updatedAt: z.string(),
  metaAt: z.string().optional(),
});

export const template = defineEntity({
  type: 'template',
  key: { pk: ACCOUNT_PARTITION, sk: 'TEMPLATE#{name}#{language}' },
  schema: z.object({
    name: z.string(),
    language: z.string(),
    category: z.string(),
    components: z.array(z.unknown()).default([]),
    numbers: z.record(z.string(), numberState).default({}),
    wabas: z.record(z.string(), wabaState).default({}),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
});
