/** Powertools Logger and Metrics, one per container, configured by POWERTOOLS_* env variables. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'whatsapp-multi-number' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'WhatsAppMultiNumber',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'whatsapp-multi-number',
});
