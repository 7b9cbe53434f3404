/** A reason the service will not start that its operator can fix (printed without a stack trace). */
export class StartupRefusal extends Error {}
