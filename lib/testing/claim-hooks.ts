// For tests: a pool that runs hooks around each claim (lib/webhooks/delivery/claim.ts) made
// through it, as a dispatcher makes them: `before` as the claim's first statement (the one that
// chooses) goes out, `after` once its transaction has committed (what a dispatcher sees as the
// claim's answer).
import type pg from "pg";

const bound = (target: object, property: string | symbol) => {
  const value: unknown = Reflect.get(target, property, target);
  return typeof value === "function" ? value.bind(target) : value;
};

export function aroundClaims(pool: pg.Pool, hooks: { before?: () => void; after?: () => Promise<void> }): pg.Pool {
  const wrap = (client: pg.PoolClient): pg.PoolClient => {
    let claiming = false;
    return new Proxy(client, {
      get(target, property) {
        if (property !== "query") return bound(target, property);
        return async (config: string | pg.QueryConfig, values?: unknown[]) => {
          const text = typeof config === "string" ? config : config.text;
          if (text.includes("candidates AS (")) {
            claiming = true;
            hooks.before?.();
          }
          const result = await target.query(config, values);
          if (text === "COMMIT" && claiming) {
            claiming = false;
            await hooks.after?.();
          }
          return result;
        };
      },
    });
  };
  return new Proxy(pool, {
    get(target, property) {
      if (property === "connect") return async () => wrap(await target.connect());
      return bound(target, property);
    },
  });
}
