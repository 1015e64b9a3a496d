// A TypeDoc plugin: names each entry point's module after the import path users write
// (`@neurodissect/core`, `@neurodissect/core/testing`) rather than after its source file
// (`core/src`, `core/src/testing`), so the pages and `{@link @neurodissect/core!name}` read as imports.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';

const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));

function importPath(moduleName) {
  const [folder, src, ...rest] = moduleName.split('/');
  if (src !== 'src') return undefined;
  const manifest = JSON.parse(readFileSync(`${packagesDir}${folder}/package.json`, 'utf8'));
  const sub = rest.join('/');
  const sources = sub ? [`./src/${sub}.ts`, `./src/${sub}/index.ts`] : ['./src/index.ts'];
  for (const [subpath, conditions] of Object.entries(manifest.exports ?? {})) {
    if (sources.includes(conditions?.['@neurodissect/source'])) {
      return subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    }
  }
  return undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getChildrenByKind(ReflectionKind.Module)) {
      const name = importPath(module.name);
      if (name === undefined) {
        app.logger.error(`No package export has the source of the entry point ${module.name}`);
      } else {
        module.name = name;
      }
    }
  });
}
