/**
 * Where a service gets the token it uses when it acts on its own behalf (an event it publishes,
 * a job it runs): `sub: svc:<name>`, role `service`.
 */
export abstract class ServiceTokenSource {
  abstract token(): Promise<string>;
}
