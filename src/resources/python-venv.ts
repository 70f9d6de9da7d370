import type { PythonVenv } from '../spec/generated/setup.js';
import type { ResourceType } from './types.js';

/** A Python venv with pinned packages. */
export const pythonVenv: ResourceType<PythonVenv> = {
  kind: 'python_venv',
  defaultName: (spec) => `python_venv:${spec.path}`,
};
