// The SDK contract: the platform's official Node SDK (npm "mailtrap", pinned in
// package.json), unchanged, drives every account-management call it has
// (general.accounts, general.accountAccesses, general.permissions, general.apiTokens,
// organizations.subAccounts) against the example service started with -demo, with
// the refusals a viewer's token, a foreign account and a bad token get.
//
// The SDK calls https://mailtrap.io and offers no option for another address; it
// reaches the service through the standard HTTPS_PROXY variable, which its HTTP
// client (axios) honours, and tlsproxy (beside this file), whose certificate
// authority NODE_EXTRA_CA_CERTS makes trusted. Run by .ci/sdk-contract.sh:
//
//	DEMO_FIXTURE=demo.json HTTPS_PROXY=http://127.0.0.1:PORT NODE_EXTRA_CA_CERTS=ca.pem node dist/contract.js
import { readFileSync } from "node:fs";
import { MailtrapClient } from "mailtrap";

// The demo fixture the service writes with -demo-out: IDs are JSON numbers, as the
// SDK types them.
interface Named {
  id: number;
  name: string;
}
interface Fixture {
  organization: Named;
  accounts: (Named & { projects: (Named & { inboxes: Named[] })[]; domains: Named[] })[];
  users: { id: number; email: string; access: string }[];
  invitations: { id: number; email: string }[];
  tokens: { id: number; name: string; account_id: number; secret: string }[];
}

const fixturePath = process.env.DEMO_FIXTURE;
const proxy = process.env.HTTPS_PROXY ?? process.env.https_proxy ?? "";
if (!fixturePath || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/.test(proxy)) {
  // Never let the SDK reach the real platform: without the loopback proxy, stop.
  console.error("contract: set DEMO_FIXTURE and HTTPS_PROXY=http://127.0.0.1:PORT (see .ci/sdk-contract.sh)");
  process.exit(2);
}
const fx: Fixture = JSON.parse(readFileSync(fixturePath, "utf8"));

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`the demo fixture has no ${what}`);
  return v;
}
const eu = must(fx.accounts[0], "EU account");
const us = must(fx.accounts[1], "US account");
const euWeb = must(eu.projects[0], "EU project");
const euStaging = must(euWeb.inboxes[0], "EU inbox");
const euDomain = must(eu.domains[0], "EU domain");
const token = (name: string) => must(fx.tokens.find((t) => t.name === name), `token ${name}`).secret;
const user = (email: string) => must(fx.users.find((u) => u.email === email), `user ${email}`);

// A client of the SDK, exactly as its README builds one.
const client = (secret: string, accountId?: number, organizationId?: number) =>
  new MailtrapClient({ token: secret, accountId, organizationId });

let passed = 0;
let failed = 0;
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
function assert(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

// statusOf returns the HTTP status of a refused call: the SDK rejects with a
// MailtrapError whose cause is the HTTP client's error.
function statusOf(e: unknown): number | undefined {
  const cause = e instanceof Error ? (e as Error & { cause?: { response?: { status?: number } } }).cause : undefined;
  return cause?.response?.status;
}
async function refused(status: number, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    const got = statusOf(e);
    assert(got === status, `refused with ${got ?? String(e)}, want ${status}`);
    assert(e instanceof Error && e.message.length > 0, "a refusal without a message");
    return;
  }
  throw new Error(`accepted, want ${status}`);
}

async function main(): Promise<void> {
  const admin = client(token("EU admin"), eu.id);
  const viewer = client(token("EU viewer"), eu.id);

  await check("general.accounts.getAllAccounts: the token's account, with a numeric id", async () => {
    const accounts = await admin.general.accounts.getAllAccounts();
    assert(accounts.length === 1, `${accounts.length} accounts`);
    const [a] = accounts;
    assert(a !== undefined && a.id === eu.id && typeof a.id === "number", `account ${JSON.stringify(a)}`);
    assert(a.access_levels.length === 1 && a.access_levels[0] === 100, `levels ${JSON.stringify(a.access_levels)}`);
  });

  // The SDK types an access as Resource; the service sends the platform's access.
  type Access = { id: number; specifier_type: string; specifier: { id: number; email: string }; resources: { resource_type: string; resource_id: number | string; access_level: number }[] };
  const accesses = async (c: MailtrapClient, filters?: Parameters<MailtrapClient["general"]["accountAccesses"]["listAccountAccesses"]>[0]) =>
    (await c.general.accountAccesses.listAccountAccesses(filters)) as unknown as Access[];
  const emails = (list: Access[]) => list.map((a) => a.specifier.email).sort();

  await check("general.accountAccesses.listAccountAccesses: every member, numeric ids", async () => {
    const list = await accesses(admin);
    const want = ["adam@demo.test", "ines@demo.test", "olivia@demo.test", "pia@demo.test"];
    assert(JSON.stringify(emails(list)) === JSON.stringify(want), `members ${emails(list)}`);
    for (const a of list) {
      assert(typeof a.id === "number" && typeof a.specifier.id === "number" && a.id !== a.specifier.id, `access ${JSON.stringify(a)}`);
    }
  });

  await check("general.accountAccesses.listAccountAccesses with filters", async () => {
    const byInbox = await accesses(admin, { inboxIds: [String(euStaging.id)] });
    assert(emails(byInbox).includes("ines@demo.test") && emails(byInbox).includes("pia@demo.test"), `inbox filter ${emails(byInbox)}`);
    const byDomain = await accesses(admin, { domainUuids: [String(euDomain.id)] });
    assert(!emails(byDomain).includes("pia@demo.test") && !emails(byDomain).includes("ines@demo.test"), `domain filter ${emails(byDomain)}`);
    const byProject = await accesses(admin, { projectIds: [String(euWeb.id)] });
    assert(emails(byProject).length === 4, `project filter ${emails(byProject)}`);
  });

  const pia = async () => must((await accesses(admin)).find((a) => a.specifier.email === "pia@demo.test"), "pia's access");

  await check("general.permissions.bulkPermissionsUpdate: a grant created, then removed", async () => {
    const before = await pia();
    const res = (await admin.general.permissions.bulkPermissionsUpdate(before.id, [
      { resourceId: String(euDomain.id), resourceType: "sending_domain", accessLevel: "viewer" },
    ])) as unknown as { message: string };
    assert(res.message === "Permissions have been updated!", `answer ${JSON.stringify(res)}`);
    const after = await pia();
    const grant = after.resources.find((r) => String(r.resource_id) === String(euDomain.id));
    assert(grant !== undefined && grant.access_level === 10 && grant.resource_type === "sending_domain", `pia's resources ${JSON.stringify(after.resources)}`);
    await admin.general.permissions.bulkPermissionsUpdate(before.id, [{ resourceId: String(euDomain.id), resourceType: "sending_domain", destroy: true }]);
    assert((await pia()).resources.length === before.resources.length, "the grant was not removed");
  });

  await check("general.permissions.getResources: answered (the SDK asks the account_accesses URL)", async () => {
    const res = await admin.general.permissions.getResources();
    assert(Array.isArray(res) && res.length === 4, `answer ${JSON.stringify(res).slice(0, 200)}`);
  });

  await check("general.apiTokens: list, create (expires_at null, sending_domain), get, reset (expires_at, old secret's grace period), delete", async () => {
    const tokens = admin.general.apiTokens;
    const list = await tokens.getList();
    assert(list.length === 3 && list.every((t) => typeof t.id === "number" && !("token" in t)), `list ${JSON.stringify(list)}`);
    const created = await tokens.create({
      name: "SDK contract",
      expires_at: null,
      resources: [{ resource_type: "sending_domain", resource_id: euDomain.id, access_level: 10 }],
    });
    assert(typeof created.id === "number" && created.token.length > 0 && created.expires_at === null, `created ${JSON.stringify(created)}`);
    const [res] = created.resources;
    assert(res !== undefined && res.resource_type === "sending_domain" && res.access_level === 10, `resources ${JSON.stringify(created.resources)}`);
    const got = await tokens.get(created.id);
    assert(got.id === created.id && got.name === "SDK contract" && got.last_4_digits === created.token.slice(-4), `get ${JSON.stringify(got)}`);
    const accounts = await client(created.token, eu.id).general.accounts.getAllAccounts();
    assert(accounts.length === 1 && accounts[0]?.access_levels[0] === 10, `the new token sees ${JSON.stringify(accounts)}`);

    const at = new Date(Date.now() + 30 * 24 * 3600 * 1000);
    at.setUTCMilliseconds(0);
    const reset = await tokens.reset(created.id, { expires_at: at.toISOString() });
    assert(reset.id !== created.id && reset.token !== created.token, `reset ${JSON.stringify(reset)}`);
    assert(reset.expires_at !== null && Date.parse(reset.expires_at) === at.getTime(), `reset expires ${reset.expires_at}, want ${at.toISOString()}`);
    // The platform keeps a reset token's old secret working for 12 hours.
    const during = await client(created.token, eu.id).general.accounts.getAllAccounts();
    assert(during.length === 1, `the old secret during the grace period sees ${JSON.stringify(during)}`);
    await refused(422, () => tokens.reset(created.id));
    const never = await tokens.reset(reset.id, { expires_at: null });
    assert(never.expires_at === null, `reset to never: ${never.expires_at}`);
    await tokens.delete(never.id);
    await refused(404, () => tokens.get(never.id));
    await refused(401, () => client(never.token, eu.id).general.accounts.getAllAccounts());
  });

  await check("general.apiTokens refusals: a past expiry, an owner grant", async () => {
    await refused(422, () => admin.general.apiTokens.create({ name: "x", expires_at: "2001-01-01T00:00:00Z" }));
    await refused(403, () =>
      admin.general.apiTokens.create({ name: "x", resources: [{ resource_type: "account", resource_id: eu.id, access_level: 1000 as 100 }] }),
    );
  });

  await check("general.accountAccesses.removeAccountAccess: pia leaves the account, answered by numeric id", async () => {
    const p = await pia();
    const res = await admin.general.accountAccesses.removeAccountAccess(p.id);
    assert(res.id === p.id, `answer ${JSON.stringify(res)}`);
    assert(!emails(await accesses(admin)).includes("pia@demo.test"), "pia is still listed");
    await refused(404, () => admin.general.accountAccesses.removeAccountAccess(p.id));
  });

  await check("organizations.subAccounts: list and create", async () => {
    const org = client(token("organization admin"), undefined, fx.organization.id).organizations.subAccounts;
    const list = await org.getList();
    assert(list.length === 2 && list.every((a) => typeof a.id === "number"), `list ${JSON.stringify(list)}`);
    const created = await org.create({ name: "Demo APAC" });
    assert(typeof created.id === "number" && created.name === "Demo APAC", `created ${JSON.stringify(created)}`);
    assert((await org.getList()).length === 3, "the new sub-account is not listed");
  });

  // Refusals: what each caller may not do changes nothing.
  await check("a viewer's token: 403 on user management and tokens", async () => {
    const before = await accesses(admin);
    await refused(403, () => viewer.general.accountAccesses.listAccountAccesses());
    await refused(403, () => viewer.general.apiTokens.getList());
    await refused(403, () => viewer.general.apiTokens.create({ name: "x" }));
    const adam = must(before.find((a) => a.specifier.email === "adam@demo.test"), "adam");
    await refused(404, () => viewer.general.accountAccesses.removeAccountAccess(adam.id));
    await refused(404, () => viewer.general.permissions.bulkPermissionsUpdate(adam.id, [{ resourceId: String(eu.id), resourceType: "account", accessLevel: "viewer" }]));
    assert(JSON.stringify(await accesses(admin)) === JSON.stringify(before), "a refusal changed the accesses");
  });

  await check("a foreign account: 404, never 403", async () => {
    const foreign = client(token("EU admin"), us.id);
    await refused(404, () => foreign.general.accountAccesses.listAccountAccesses());
    await refused(404, () => foreign.general.apiTokens.getList());
    await refused(404, () => foreign.general.apiTokens.create({ name: "x" }));
    const usAccess = (await accesses(client(token("US admin"), us.id)))[0];
    await refused(404, () => foreign.general.accountAccesses.removeAccountAccess(must(usAccess, "a US access").id));
    await refused(404, () => client(token("EU admin"), undefined, fx.organization.id).organizations.subAccounts.getList());
    await refused(404, () => client(token("US admin"), eu.id).general.apiTokens.get(must(fx.tokens[0], "a token").id));
  });

  await check("a bad token: 401", async () => {
    const bad = client("1234.not-a-secret", eu.id);
    await refused(401, () => bad.general.accounts.getAllAccounts());
    await refused(401, () => bad.general.accountAccesses.listAccountAccesses());
    await refused(401, () => client("1234.not-a-secret", undefined, fx.organization.id).organizations.subAccounts.getList());
  });

  await check("the owner's access cannot be changed (D9)", async () => {
    const olivia = must((await accesses(admin)).find((a) => a.specifier.id === user("olivia@demo.test").id), "olivia");
    await refused(403, () => admin.general.permissions.bulkPermissionsUpdate(olivia.id, [{ resourceId: String(eu.id), resourceType: "account", accessLevel: "viewer" }]));
    await refused(403, () => admin.general.accountAccesses.removeAccountAccess(olivia.id));
  });

  console.log(`contract: ${passed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
