// The check every end-to-end file runs after each test: nothing it issued is still alive.
import { expect } from 'vitest';
import type { TestEnv } from '../harness/types.js';

/** No live lease at the engine and no live Docker Hub token (registry credential). */
export function expectNothingAlive(env: TestEnv): void {
  expect(env.engine.liveLeases()).toEqual([]);
  expect(env.hub.liveTokens()).toEqual([]);
}
