/**
 * The plugin's custom resources through its provider interface, as the engine drives them,
 * against real PostgreSQL (the newest major: the plugin adds no SQL of its own; the handlers'
 * own suites cover every major): a `PostgresUserPair` creates both users, a `PostgresRotation`
 * starts from its initial state and rotates on a new trigger, both known passwords log in,
 * refresh and delete work. Every secret arrives wrapped as the engine sends it, and every
 * response holds each password only inside a secret wrapper.
 */
import { expect } from "chai";
import { RotatorProvider } from "../../../provider/plugin/provider";
import { packageVersion, readSchema } from "../../../provider/plugin/index";
import {
  SECRET_SIG,
  SIG_KEY,
  isWrappedSecret,
  unwrapSecrets,
} from "../../../provider/plugin/secrets";
import { SUPPORTED_MAJORS, cluster, uniqueName, type TestCluster } from "../../support/servers";
import { expectNoSecrets } from "../../support/secrets";

const NEWEST = SUPPORTED_MAJORS[SUPPORTED_MAJORS.length - 1];
const PAIR = "urn:pulumi:dev::p::postgres-rotator:index:PostgresUserPair::users";
const ROTATION = "urn:pulumi:dev::p::postgres-rotator:index:PostgresRotation::rotation";
const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

/** `value` as JSON with every secret wrapper's content hidden: what is readable in the state. */
function readable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isWrappedSecret(v) ? "<secret>" : v));
}

interface Credential {
  username: string;
  password?: string;
}

describe(`plugin custom resources on PostgreSQL ${NEWEST}`, function () {
  this.timeout(60_000);
  const provider = new RotatorProvider(packageVersion(), readSchema());
  let pg: TestCluster;
  const secrets: string[] = [];

  before(async () => {
    pg = await cluster(NEWEST);
    secrets.push(pg.manager.password);
  });

  /** The `database` input as the engine sends it: the managing password wrapped. */
  const database = () => ({
    ...pg.database,
    managingUser: { username: pg.manager.username, password: secret(pg.manager.password) },
  });

  it("creates the users, rotates them, refreshes and deletes, secrets wrapped throughout", async () => {
    const rotateUsers = { username1: uniqueName("plug_a"), username2: uniqueName("plug_b") };
    const group = await pg.createGroup();

    // PostgresUserPair: both users created, their passwords only as secrets.
    const pairInputs = {
      database: database(),
      rotateUsers,
      memberOf: [group],
      deleteUsersOnDestroy: true,
    };
    const pairCheck = await provider.check(PAIR, {}, pairInputs);
    expect(pairCheck.failures).to.deep.equal([]);
    const pair = await provider.create(PAIR, pairCheck.inputs);
    const pairOuts = pair.outs as Record<string, unknown>;
    for (const key of ["passwords", "initialState", "managingPassword"]) {
      expect(isWrappedSecret(pairOuts[key]), key).to.equal(true);
    }
    const passwords = unwrapSecrets<Record<string, string>>(pairOuts.passwords);
    secrets.push(...Object.values(passwords));
    expect(Object.keys(passwords)).to.have.members([rotateUsers.username1, rotateUsers.username2]);
    expectNoSecrets(readable(pairOuts), secrets);

    // PostgresRotation from the pair's initial state, as the component wires it.
    const rotationInputs = {
      database: database(),
      rotateUsers,
      state: pairOuts.initialState,
      rotationTrigger: "1",
    };
    const rotationCheck = await provider.check(ROTATION, {}, rotationInputs);
    expect(rotationCheck.failures).to.deep.equal([]);
    const created = await provider.create(ROTATION, rotationCheck.inputs);
    let outs = created.outs as Record<string, unknown>;
    for (const key of ["current", "previous", "state"]) {
      expect(isWrappedSecret(outs[key]), key).to.equal(true);
    }
    const first = unwrapSecrets<Credential>(outs.current);
    expect(first).to.deep.equal({
      username: rotateUsers.username1,
      password: passwords[rotateUsers.username1],
    });

    // A new trigger: a diff, then an update from the stored (wrapped) outputs.
    const bumped = { ...rotationInputs, rotationTrigger: "2" };
    const diff = await provider.diff(created.id, ROTATION, outs, bumped);
    expect(diff.changes).to.equal(true);
    expect(diff.replaces ?? []).to.deep.equal([]);
    outs = (await provider.update(created.id, ROTATION, outs, bumped)).outs as Record<
      string,
      unknown
    >;
    const current = unwrapSecrets<Credential>(outs.current);
    const previous = unwrapSecrets<Credential>(outs.previous);
    secrets.push(current.password!);
    expect(current.username).to.equal(rotateUsers.username2);
    expect(current.password).to.not.equal(passwords[rotateUsers.username2]);
    expect(previous).to.deep.equal(first);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    expect(await pg.canLogin(previous.username, previous.password)).to.equal(true);
    expect(outs.currentUsername).to.equal(rotateUsers.username2);
    expectNoSecrets(readable(outs), secrets);
    expect(await provider.diff(created.id, ROTATION, outs, bumped)).to.include({ changes: false });

    // Refresh: the outputs stand, still wrapped.
    const read = await provider.read(created.id, ROTATION, outs);
    expect(read.id).to.equal(created.id);
    expect(unwrapSecrets(read.props)).to.deep.equal(unwrapSecrets(outs));
    expect(isWrappedSecret((read.props as Record<string, unknown>).current)).to.equal(true);
    expectNoSecrets(readable(read.props), secrets);

    // Delete: the rotation leaves the roles; the pair drops the users it created.
    await provider.delete(created.id, ROTATION, outs);
    expect(await pg.canLogin(current.username, current.password)).to.equal(true);
    await provider.delete(pair.id, PAIR, pairOuts);
    expect(await pg.canLogin(current.username, current.password)).to.equal(false);
  });
});
