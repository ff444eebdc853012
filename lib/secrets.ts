import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * Meta's secrets in Secrets Manager. The stack creates them with generated
 * placeholder values; the operator puts the real app secret and access token
 * (README "Deploy"). The verify token may stay generated: it is what you
 * paste into Meta's webhook settings.
 */
export class WhatsAppSecrets extends Construct {
  public readonly appSecret: Secret;
  public readonly verifyToken: Secret;
  public readonly accessToken: Secret;
  /** Outgoing webhooks' master key: each subscription's secret is HMAC(this, subscription id); nothing secret is stored in the table. */
  public readonly webhookSigningKey: Secret;

  constructor(scope: Construct, id: string, props: { readonly prefix: string }) {
    super(scope, id);
    const make = (name: string, description: string) =>
      new Secret(this, name, {
        secretName: `${props.prefix}/${name}`,
        description,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.appSecret = make('whatsapp-app-secret', "Meta app secret: verifies X-Hub-Signature-256 on webhook deliveries. Put the real value.");
    this.verifyToken = make('whatsapp-verify-token', "Token Meta echoes in the webhook verification handshake.");
    this.accessToken = make('whatsapp-access-token', 'Graph API system-user access token used to send messages. Put the real value.');
    // Generated and kept: replacing it changes every subscription's secret (docs/outgoing-webhooks.md, "Secrets").
    this.webhookSigningKey = make('webhook-signing-key', 'Master key of outgoing webhook signatures: subscription secrets are derived from it. Generated; keep it.');
    new CfnOutput(this, 'AppSecretName', { value: this.appSecret.secretName });
    new CfnOutput(this, 'VerifyTokenSecretName', { value: this.verifyToken.secretName });
    new CfnOutput(this, 'AccessTokenSecretName', { value: this.accessToken.secretName });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Meta issues these values: they are rotated in Meta's app dashboard and then put here (README Deploy), not by a rotation Lambda. The webhook signing key is not rotated automatically: every subscription secret derives from it, so a rotation is a planned change subscribers must follow.",
    });
  }
}
