import pkg from '../../package.json' with { type: 'json' };

/** The version of this build, as package.json declares it. */
export const VERSION: string = pkg.version;
