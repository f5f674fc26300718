import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * External programs the tests drive (kubectl, go) and the project's small Go test tools under tests/tools, built
 * once into a cache directory outside the repository and reused while their sources are unchanged.
 */

const root = resolve(import.meta.dirname, '../..');

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly cwd?: string;
  readonly input?: string;
  readonly env?: Record<string, string>;
}

/** What to install when a program is missing, named in the error. */
const INSTALL_HINTS: Record<string, string> = {
  kubectl:
    'install kubectl ≥ 1.27 (its built-in kustomize v5 builds the overlays; https://kubernetes.io/docs/tasks/tools/)',
  go: 'install Go ≥ 1.25 (https://go.dev/dl/); it fetches Knative and builds the test tools through the Go module proxy',
};

/** Runs a program to completion; a missing program is an error that says what to install. */
export function runTool(
  command: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? root,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        const hint = INSTALL_HINTS[command] ?? 'install it';
        rejectRun(new Error(`\`${command}\` was not found on PATH: ${hint}`));
      } else {
        rejectRun(error);
      }
    });
    child.on('close', (code) => {
      resolveRun({
        code: code ?? 1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Like runTool, but a non-zero exit is an error carrying the program's stderr. */
export async function runToolOk(
  command: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  const result = await runTool(command, args, options);
  if (result.code !== 0) {
    throw new Error(`\`${command} ${args.join(' ')}\` exited with ${result.code}:\n${result.stderr.trim()}`);
  }
  return result;
}

/** Environment for `go`: no VCS stamping (CI checkouts may lack git), no cgo (the tools are pure Go). */
export const GO_ENV: Record<string, string> = { GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };

export function testToolsCache(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'jes-test-tools');
}

/**
 * Builds the Go program in tests/tools/<name> (its own module) and returns the binary's path. The binary is cached,
 * keyed by a hash of the module's files; the first build of a tool with dependencies downloads them from the Go
 * module proxy into the module cache.
 */
export async function buildGoTool(name: string): Promise<string> {
  const directory = join(root, 'tests/tools', name);
  const hash = createHash('sha256');
  for (const file of (await readdir(directory)).sort()) {
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(directory, file)))
      .update('\0');
  }
  const binary = join(testToolsCache(), `${name}-${hash.digest('hex').slice(0, 16)}`);
  try {
    await access(binary);
    return binary;
  } catch {
    // not built yet
  }
  await mkdir(testToolsCache(), { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  await runToolOk('go', ['build', '-o', partial, '.'], { cwd: directory, env: GO_ENV });
  await rename(partial, binary);
  return binary;
}
