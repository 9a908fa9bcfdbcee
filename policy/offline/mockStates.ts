import * as pulumi from "@pulumi/pulumi";

/** `type::name` → what the mocks returned for that resource (inputs plus computed outputs). */
export type MockStates = Map<string, Record<string, unknown>>;

export const stateKey = (type: string, name: string) => `${type}::${name}`;

/**
 * Stack policies read resource *outputs* (a RandomPassword's `result`), but the mocked-lab recorder
 * keeps inputs only. Until it keeps outputs too (asked in /work/notes/requests.md), this wraps the
 * mocks that `run` installs, for the duration of `run`, and notes what each `newResource` returns.
 */
export async function withMockStates<T>(run: () => Promise<T>): Promise<{ result: T; states: MockStates }> {
  const states: MockStates = new Map();
  const runtime = pulumi.runtime as { setMocks: typeof pulumi.runtime.setMocks };
  const original = runtime.setMocks;
  runtime.setMocks = (mocks, ...rest) =>
    original(
      {
        call: (args) => mocks.call(args),
        newResource: async (args) => {
          const returned = await mocks.newResource(args);
          states.set(stateKey(args.type, args.name), returned.state);
          return returned;
        },
      },
      ...rest,
    );
  try {
    return { result: await run(), states };
  } finally {
    runtime.setMocks = original;
  }
}
