import { expect } from "chai";
import { LIVE_SESSIONS_POLICIES, SSL_MODES } from "../../../provider/core/types";
import fc from "fast-check";
import { StateMismatchError } from "../../../provider/errors";
import { planChange, planRotation, sameJson, type ChangeView } from "../../../provider/core/plan";
import type { RotationState } from "../../../provider/core/types";

const users = { username1: "app_1", username2: "app_2" };

describe("planRotation", () => {
  it("rotates username1 first when there is no state", () => {
    const plan = planRotation({ users, newPassword: "pw-1" });
    expect(plan).to.deep.equal({
      target: "app_1",
      next: { current: { username: "app_1", password: "pw-1" }, previous: { username: "app_2" } },
    });
  });

  it("changes the previous user and keeps the current one as previous", () => {
    const state: RotationState = {
      current: { username: "app_2", password: "cur" },
      previous: { username: "app_1", password: "old" },
    };
    const plan = planRotation({ state, users, newPassword: "new" });
    expect(plan.target).to.equal("app_1");
    expect(plan.untouched).to.deep.equal(state.current);
    expect(plan.next).to.deep.equal({
      current: { username: "app_1", password: "new" },
      previous: { username: "app_2", password: "cur" },
    });
  });

  it("accepts a state whose previous is not given", () => {
    const plan = planRotation({
      state: { current: { username: "app_1", password: "cur" } },
      users,
      newPassword: "new",
    });
    expect(plan.target).to.equal("app_2");
  });

  it("refuses a state that belongs to another pair", () => {
    expect(() =>
      planRotation({
        state: { current: { username: "x", password: "p" } },
        users,
        newPassword: "n",
      }),
    ).to.throw(StateMismatchError, /"x" is not one of the rotated users/);
    expect(() =>
      planRotation({
        state: { current: { username: "app_1", password: "p" }, previous: { username: "y" } },
        users,
        newPassword: "n",
      }),
    ).to.throw(StateMismatchError, /must be the other rotated user/);
  });

  describe("properties", () => {
    const name = fc.string({ minLength: 1, maxLength: 20 });
    const pair = fc
      .tuple(name, name)
      .filter(([a, b]) => a !== b)
      .map(([username1, username2]) => ({ username1, username2 }));
    const passwords = fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 12 });

    /** Plays `newPasswords.length` rotations; returns the states and a model of the database. */
    function play(p: { username1: string; username2: string }, newPasswords: string[]) {
      const db = new Map<string, string>();
      let state: RotationState | undefined;
      const states: RotationState[] = [];
      for (const newPassword of newPasswords) {
        const plan = planRotation({ state, users: p, newPassword });
        if (state) {
          expect(plan.target, "current user is never the target").to.not.equal(
            state.current.username,
          );
        }
        db.set(plan.target, newPassword);
        state = plan.next;
        states.push(state);
      }
      return { db, states };
    }

    it("never changes the current user's password", () => {
      fc.assert(fc.property(pair, passwords, (p, pws) => void play(p, pws)));
    });

    it("alternates the two users, username1 first", () => {
      fc.assert(
        fc.property(pair, passwords, (p, pws) => {
          play(p, pws).states.forEach((s, i) =>
            expect(s.current.username).to.equal(i % 2 === 0 ? p.username1 : p.username2),
          );
        }),
      );
    });

    it("after every rotation the state matches the database; after two, both passwords are known", () => {
      fc.assert(
        fc.property(pair, passwords, (p, pws) => {
          const { db, states } = play(p, pws);
          const last = states[states.length - 1];
          expect(db.get(last.current.username)).to.equal(last.current.password);
          if (states.length >= 2) {
            expect(last.previous?.password).to.be.a("string");
            expect(db.get(last.previous!.username)).to.equal(last.previous!.password);
          } else {
            expect(last.previous?.password).to.equal(undefined);
          }
        }),
      );
    });
  });
});

describe("planChange", () => {
  const base: ChangeView = {
    rotateUsers: users,
    rotationTrigger: "1",
    settings: { database: { host: "h", port: 5432 } },
    currentUsername: "app_2",
  };

  it("does nothing when nothing changed, whatever the key order", () => {
    const reordered = { ...base, settings: { database: { port: 5432, host: "h" } } };
    expect(planChange(base, reordered)).to.deep.equal({ kind: "none" });
  });

  it("replaces for a pair without the current user", () => {
    const next = { ...base, rotateUsers: { username1: "app_1", username2: "other" } };
    expect(planChange(base, next)).to.deep.equal({ kind: "replace" });
  });

  it("keeps the current user when the new pair still holds it, swapped or not", () => {
    const kept = { kind: "update", repair: true, adopt: false, rotate: false };
    const swapped = { ...base, rotateUsers: { username1: "app_2", username2: "app_1" } };
    expect(planChange(base, swapped)).to.deep.equal(kept);
    const overlap = { ...base, rotateUsers: { username1: "new_1", username2: "app_2" } };
    expect(planChange(base, overlap)).to.deep.equal(kept);
  });

  it("decides an unknown pair once it is known (preview shows an update)", () => {
    const unknown = { ...base, rotateUsers: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never };
    expect(planChange(base, unknown)).to.include({ kind: "update" });
  });

  it("rotates when the trigger changes, including from none and to a number", () => {
    expect(planChange(base, { ...base, rotationTrigger: "2" })).to.deep.equal({
      kind: "update",
      repair: false,
      adopt: false,
      rotate: true,
    });
    expect(planChange({ ...base, rotationTrigger: undefined }, base)).to.include({ rotate: true });
    expect(planChange(base, { ...base, rotationTrigger: 1 })).to.include({ rotate: true });
  });

  it("updates settings without rotating", () => {
    const next = { ...base, settings: { database: { host: "h2", port: 5432 } } };
    expect(planChange(base, next)).to.deep.equal({
      kind: "update",
      repair: false,
      adopt: false,
      rotate: false,
    });
  });

  it("adopts a new state, and not a removed one", () => {
    const state = { current: { username: "app_2", password: "p" } };
    expect(planChange(base, { ...base, state })).to.deep.equal({
      kind: "update",
      repair: false,
      adopt: true,
      rotate: false,
    });
    expect(planChange({ ...base, state }, base)).to.deep.equal({ kind: "none" });
  });
});

describe("sameJson", () => {
  it("ignores key order and undefined members", () => {
    expect(sameJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined })).to.equal(
      true,
    );
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).to.equal(false);
    expect(sameJson("1", 1)).to.equal(false);
  });
});

describe("types: the literal lists inputs are checked against", () => {
  it("has libpq's four sslmodes this package takes, and the three live-session policies", () => {
    expect(SSL_MODES).to.deep.equal(["disable", "require", "verify-ca", "verify-full"]);
    expect(LIVE_SESSIONS_POLICIES).to.deep.equal(["refuse", "warn", "ignore"]);
  });
});

describe("plan: messages and comparisons, exactly", () => {
  const users = { username1: "a", username2: "b" };
  it("names both users of the pair and the one previous must be", () => {
    expect(() =>
      planRotation({
        state: { current: { username: "z", password: "p" } },
        users,
        newPassword: "n",
      }),
    ).to.throw(
      StateMismatchError,
      'state.current.username "z" is not one of the rotated users "a" and "b"',
    );
    expect(() =>
      planRotation({
        state: { current: { username: "a", password: "p" }, previous: { username: "z" } },
        users,
        newPassword: "n",
      }),
    ).to.throw(
      StateMismatchError,
      'state.previous.username "z" must be the other rotated user, "b"',
    );
  });

  it("compares JSON values structurally: undefined, null, arrays and key order", () => {
    expect(sameJson(undefined, null)).to.equal(false);
    expect(sameJson(undefined, "undefined")).to.equal(false);
    expect(sameJson(null, "null")).to.equal(false);
    expect(sameJson(["a", "b"], ["a,b"])).to.equal(false);
    expect(sameJson(["a", "b"], { 0: "a", 1: "b" })).to.equal(false);
    expect(sameJson({ b: 1, a: 2, c: 3 }, { c: 3, a: 2, b: 1 })).to.equal(true);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).to.equal(true);
    expect(sameJson({ ab: 1, c: 2 }, { a: 1, bc: 2 })).to.equal(false);
    expect(sameJson([1, 2], [2, 1])).to.equal(false);
    expect(sameJson({ x: [{ b: 1, a: 2 }] }, { x: [{ a: 2, b: 1 }] })).to.equal(true);
  });

  it("decides a pair that is not fully known yet when it is known: an update, never a replacement", () => {
    const olds = { rotateUsers: users, settings: {}, currentUsername: "a" };
    for (const rotateUsers of [undefined, { username1: "x" }, { username2: "y" }, "a,b"]) {
      expect(
        planChange(olds, { rotateUsers: rotateUsers as never, settings: {} }).kind,
        JSON.stringify(rotateUsers),
      ).to.equal("update");
    }
    expect(
      planChange(olds, { rotateUsers: { username1: "x", username2: "y" }, settings: {} }).kind,
    ).to.equal("replace");
  });
});

describe("sameJson on many keys in every order", () => {
  it("is independent of key order however the keys arrive, and sees arrays' boundaries", () => {
    const keys = "qwertyuiopasdfghjklzxcvbnm".split("");
    const forward = Object.fromEntries(keys.map((k, i) => [k, i]));
    const backward = Object.fromEntries([...keys].reverse().map((k) => [k, forward[k]]));
    const shuffled = Object.fromEntries(
      [...keys]
        .sort((a, b) => ((a.charCodeAt(0) * 7) % 26) - ((b.charCodeAt(0) * 7) % 26))
        .map((k) => [k, forward[k]]),
    );
    expect(sameJson(forward, backward)).to.equal(true);
    expect(sameJson(backward, shuffled)).to.equal(true);
    expect(sameJson(forward, { ...backward, q: -1 })).to.equal(false);
    expect(sameJson([1, 23], [12, 3])).to.equal(false);
  });
});
