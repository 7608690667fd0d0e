// Loaded with `node --import`: makes the optional chdb package look uninstalled, as after
// `npm ci --omit=optional`, without touching node_modules.
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === 'chdb' || specifier.startsWith('chdb/')) {
    const err = new Error("Cannot find package 'chdb' imported from " + context.parentURL);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
