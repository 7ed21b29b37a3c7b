import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { VERIFIED_CLAIM } from '../../lambda/contracts/user-claims';

export interface ApiUserPoolProps {
  /**
   * Whether researchers may create their own accounts; otherwise administrators invite them.
   * @default true
   */
  readonly selfSignUp?: boolean;
  /**
   * Cognito threat protection on the Plus feature plan: risky sign-ins challenged or blocked,
   * leaked passwords refused.
   * @default true
   */
  readonly threatProtection?: boolean;
}

/** Name of the custom attribute behind the `custom:verified` claim, without its prefix. */
const VERIFIED_ATTRIBUTE = VERIFIED_CLAIM.replace(/^custom:/, '');

/**
 * The researchers' accounts: sign-in with a verified email address, a strong password and
 * optional TOTP, with Cognito's threat protection acting on risky sign-ins. The API's authorizer
 * accepts the ID tokens of its app client. Retained and protected from deletion: it is the only
 * record of who owns which upload, job and algorithm.
 */
export class ApiUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  /** Public client for browsers and scripts: SRP sign-in, no secret. */
  readonly appClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: ApiUserPoolProps = {}) {
    super(scope, id);
    const threatProtection = props.threatProtection ?? true;
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: props.selfSignUp ?? true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      // A changed address takes effect only once its code is confirmed, so sign-in never locks out.
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // 'true' for researchers whose identity an administrator has checked: the larger upload quota.
        [VERIFIED_ATTRIBUTE]: new cognito.StringAttribute({ minLen: 4, maxLen: 5, mutable: true }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      ...(threatProtection
        ? {
            featurePlan: cognito.FeaturePlan.PLUS,
            standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
          }
        : { featurePlan: cognito.FeaturePlan.ESSENTIALS }),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const standardRead = { email: true, emailVerified: true };
    this.appClient = this.userPool.addClient('AppClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      // Sign-in is SRP from the app itself: no hosted UI, so no OAuth flows or callback URLs.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes(standardRead)
        .withCustomAttributes(VERIFIED_ATTRIBUTE),
      // Users may change their address but never mark themselves verified: only administrators set it.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    if (threatProtection) this.configureThreatProtection();
    else {
      const reason =
        'Threat protection is off by the platform configuration (users.threatProtection = false), which a deployment chooses to avoid the Plus plan price per monthly active user.';
      Validations.of(this.userPool).acknowledge(
        { id: 'AwsSolutions-COG3', reason },
        { id: 'AwsSolutions-COG8', reason },
      );
    }

    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional with TOTP so that researchers without an authenticator can join; with threat protection on (the default) Cognito asks for the second factor on medium-risk sign-ins of users who set one up and on every high-risk sign-in, blocking those without one.',
    });
  }

  private configureThreatProtection(): void {
    // What threat protection does at each risk level, stated here instead of left to Cognito's defaults.
    const takeoverAction = (eventAction: string) => ({ eventAction, notify: false });
    new cognito.CfnUserPoolRiskConfigurationAttachment(this, 'ThreatProtection', {
      userPoolId: this.userPool.userPoolId,
      clientId: 'ALL',
      accountTakeoverRiskConfiguration: {
        actions: {
          lowAction: takeoverAction('NO_ACTION'),
          mediumAction: takeoverAction('MFA_IF_CONFIGURED'),
          // Users without a second factor are blocked: there is nothing else to challenge them with.
          highAction: takeoverAction('MFA_REQUIRED'),
        },
      },
      // Passwords found in public breaches are refused at sign-up, sign-in and password change.
      compromisedCredentialsRiskConfiguration: { actions: { eventAction: 'BLOCK' } },
    });
  }
}
