// Parses the appc image string `name[:version][,label=value]*` into a name and labels.
import { RktError } from '../../common/errors.js';

export interface AppRef {
  readonly name: string;
  /** Labels asked for; `version` comes from ":v" or "version=v". */
  readonly labels: Readonly<Record<string, string>>;
}

const AC_IDENTIFIER = /^[a-z0-9]+(?:[-._~/][a-z0-9]+)*$/;
const AC_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function parseAppString(input: string): AppRef {
  const [head = '', ...rest] = input.split(',');
  const colon = head.indexOf(':');
  const name = colon === -1 ? head : head.slice(0, colon);
  if (!AC_IDENTIFIER.test(name)) {
    throw new RktError('NAME_INVALID', `invalid image name "${name}": not an AC identifier`, {
      hint: 'image names are lower-case letters, digits and -._~/ separators, e.g. example.com/app:1.0',
    });
  }
  const labels: Record<string, string> = {};
  if (colon !== -1) {
    const version = head.slice(colon + 1);
    if (version === '' || version.includes(':')) {
      throw new RktError('NAME_INVALID', `invalid image string "${input}": bad version after ":"`, {
        hint: 'write name:version, e.g. example.com/app:1.0',
      });
    }
    labels['version'] = version;
  }
  for (const part of rest) {
    const eq = part.indexOf('=');
    const key = eq === -1 ? '' : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    if (!AC_NAME.test(key) || value === '') {
      throw new RktError('NAME_INVALID', `invalid image string "${input}": bad label "${part}"`, {
        hint: 'labels are written ,name=value after the image name',
      });
    }
    if (key in labels) {
      throw new RktError('NAME_INVALID', `invalid image string "${input}": label "${key}" given twice`);
    }
    labels[key] = value;
  }
  return { name, labels };
}

/** The canonical string form, for messages. */
export function formatAppRef(ref: AppRef): string {
  const { version, ...others } = ref.labels;
  const extra = Object.entries(others)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `,${k}=${v}`)
    .join('');
  return `${ref.name}${version !== undefined ? `:${version}` : ''}${extra}`;
}
