import { z } from 'zod';
import { isDicomKeyword } from '../dicom/keywords.js';

/**
 * The one source of truth for settings: every key has a default and a description.
 * config/default.yaml mirrors these defaults (a test keeps them equal), and the README's
 * config reference is generated from this schema (`osteoscreen config --markdown`).
 */
const aeTitle = z.string().min(1).max(16).regex(/^[\x20-\x7e]+$/, 'AE titles are 1-16 printable ASCII characters').transform((s) => s.trim());

export const destinationSchema = z.object({
  aeTitle: aeTitle.describe('Called AE title of the destination PACS'),
  host: z.string().min(1).describe('Host name or IP of the destination'),
  port: z.number().int().min(1).max(65535).describe('DICOM port of the destination'),
  callingAeTitle: aeTitle.optional().describe('Calling AE title to use (defaults to dicom.aeTitle)'),
});
export type Destination = z.infer<typeof destinationSchema>;

/** An http(s) URL without user:password@ (credentials belong in their own keys, masked in `osteoscreen config`). */
const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'expected an http:// or https:// URL')
  .refine((s) => !URL.canParse(s) || (!new URL(s).username && !new URL(s).password), 'put credentials in user/password or token, not in the URL')
  .transform((s) => s.replace(/\/+$/, ''));

/** HTTP authentication of a destination (STOW-RS, FHIR): none, a bearer token or basic user/password. */
const httpAuthFields = {
  auth: z.enum(['none', 'bearer', 'basic']).default('none').describe('HTTP authentication'),
  token: z.string().optional().describe('Bearer token (auth bearer)'),
  user: z.string().optional().describe('User name (auth basic)'),
  password: z.string().optional().describe('Password (auth basic)'),
  caFile: z.string().optional().describe('PEM file of the CA(s) to trust for https (default: the system CAs)'),
};

function checkHttpAuth(d: { auth: string; token?: string; user?: string; password?: string }, ctx: z.RefinementCtx): void {
  if (d.auth === 'bearer' && !d.token) ctx.addIssue({ code: 'custom', message: 'auth bearer needs a token', path: ['token'] });
  if (d.auth === 'basic' && (!d.user || d.password === undefined)) ctx.addIssue({ code: 'custom', message: 'auth basic needs user and password', path: ['user'] });
  if (d.auth !== 'bearer' && d.token) ctx.addIssue({ code: 'custom', message: `a token is set but auth is ${d.auth}`, path: ['auth'] });
  if (d.auth !== 'basic' && (d.user || d.password)) ctx.addIssue({ code: 'custom', message: `user/password are set but auth is ${d.auth}`, path: ['auth'] });
}

/** A plain string in a destination list is its URL (auth none). */
const urlOrObject = (v: unknown) => (typeof v === 'string' ? { url: v } : v);

/** A DICOMweb STOW-RS destination: outputs are POSTed to `<url>/studies` (PS3.18). A plain string is a URL with auth none. */
export const stowSchema = z.preprocess(
  urlOrObject,
  z
    .strictObject({
      url: httpUrl.describe('DICOMweb base URL (the service root; /studies is appended), e.g. https://pacs.example/dicom-web'),
      ...httpAuthFields,
      timeoutSeconds: z.number().min(1).default(120).describe('Limit for one STOW-RS request'),
    })
    .superRefine(checkHttpAuth),
);
export type StowDestination = z.infer<typeof stowSchema>;

/** A webhook: a small signed JSON POSTed when a study finishes. */
export const webhookSchema = z.strictObject({
  url: httpUrl.describe('URL the JSON is POSTed to'),
  secret: z.string().min(16, 'a webhook secret has at least 16 characters').describe('HMAC-SHA256 key the body is signed with'),
  onlyFlagged: z.boolean().default(false).describe('Only notify studies that are flagged'),
  caFile: z.string().optional().describe('PEM file of the CA(s) to trust for https (default: the system CAs)'),
  timeoutSeconds: z.number().min(1).default(10).describe('Limit for one POST'),
});
export type WebhookDestination = z.infer<typeof webhookSchema>;

/** MSH-3..6 (HL7 v2 HD, written as its first component): no HL7 delimiter characters, at most 227 characters. */
const hl7Name = z.string().max(227).regex(/^[^|^~\\&\r\n]*$/, 'no HL7 delimiter characters (| ^ ~ \\ &) or line breaks');

/** An HL7 v2 receiver: ORU^R01 messages sent over MLLP (TCP, optionally TLS). A plain string is "host:port". */
export const hl7Schema = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const m = /^(.+):(\d{1,5})$/.exec(v.trim());
    return m ? { host: m[1], port: Number(m[2]) } : v;
  },
  z.strictObject({
    host: z.string().min(1).describe('Host name or IP of the MLLP receiver (interface engine / EHR)'),
    port: z.number().int().min(1).max(65535).describe('Its MLLP port'),
    sendingApplication: hl7Name.default('OSTEOSCREEN').describe('MSH-3 Sending Application'),
    sendingFacility: hl7Name.default('').describe('MSH-4 Sending Facility'),
    receivingApplication: hl7Name.default('').describe('MSH-5 Receiving Application'),
    receivingFacility: hl7Name.default('').describe('MSH-6 Receiving Facility'),
    processingId: z.enum(['P', 'T', 'D']).default('P').describe('MSH-11 Processing ID: P production, T training, D debugging'),
    onlyFlagged: z.boolean().default(false).describe('Only send studies that are flagged'),
    tls: z.boolean().default(false).describe('MLLP over TLS'),
    caFile: z.string().optional().describe('PEM file of the CA(s) to trust with tls (default: the system CAs)'),
    timeoutSeconds: z.number().min(1).default(30).describe('Limit for connecting and for the ACK of each message'),
  }),
);
export type Hl7Destination = z.infer<typeof hl7Schema>;

/** A FHIR R4 server: a DiagnosticReport and an Observation per result, POSTed with conditional create (README, FHIR R4). */
export const fhirSchema = z.preprocess(
  urlOrObject,
  z
    .strictObject({
      url: httpUrl.describe('FHIR R4 base URL (resources are POSTed to <url>/Observation and <url>/DiagnosticReport), e.g. https://fhir.hospital.example/r4'),
      ...httpAuthFields,
      onlyFlagged: z.boolean().default(false).describe('Only send studies that are flagged'),
      timeoutSeconds: z.number().min(1).default(30).describe('Limit for one POST'),
    })
    .superRefine(checkHttpAuth),
);
export type FhirDestination = z.infer<typeof fhirSchema>;

/** A DICOM attribute keyword of the standard dictionary (e.g. PatientID, IssuerOfPatientID, AccessionNumber). */
const dicomKeyword = z.string().superRefine((k, ctx) => {
  if (!isDicomKeyword(k)) ctx.addIssue({ code: 'custom', message: `"${k}" is not a DICOM attribute keyword (e.g. PatientID, IssuerOfPatientID, AccessionNumber)` });
});

export const configSchema = z.object({
  dicom: z
    .object({
      port: z.number().int().min(1).max(65535).default(11112).describe('DICOM listening port (C-ECHO, C-STORE)'),
      aeTitle: aeTitle.default('OSTEOSCREEN').describe('Our AE title; callers must address it unless checkCalledAeTitle is false'),
      checkCalledAeTitle: z.boolean().default(true).describe('Refuse associations whose called AE title is not ours'),
      allowedCallingAeTitles: z.array(z.string()).default([]).describe('Calling AE titles allowed to connect (empty = accept all, logged as a warning)'),
      allowedSourceIps: z.array(z.string()).default([]).describe('Source IP addresses allowed to connect (empty = accept all, logged as a warning)'),
      maxAssociations: z.number().int().min(1).default(8).describe('Maximum concurrent associations; more are rejected (transient)'),
      host: z.string().default('0.0.0.0').describe('Interface to listen on'),
      timeoutSeconds: z.number().min(1).default(60).describe('A connection must have its association accepted this soon after connecting, and an association receiving nothing this long is closed'),
      maxPendingConnections: z.number().int().min(1).default(16).describe('Connections still without an association; one more closes the oldest of them'),
    })
    .prefault({}),
  http: z
    .object({
      port: z.number().int().min(0).max(65535).default(8080).describe('Admin HTTP port (API, page, /metrics, /health)'),
      host: z.string().default('0.0.0.0').describe('Interface for the admin HTTP server'),
      token: z.string().default('').describe('Bearer token for the admin API; empty = generate one in the data folder on first start'),
      publicUrl: z.string().default('').describe("The admin page's address as others reach it, for links in webhook bodies (e.g. https://osteoscreen.hospital.example:8080); empty = http://<host name>:<http.port>"),
    })
    .prefault({}),
  storage: z
    .object({
      dir: z.string().default('./data').describe('Data folder: received instances, SQLite index, outputs'),
      minFreeMb: z.number().min(0).default(500).describe('Below this much free disk space C-STORE answers A700 (out of resources)'),
    })
    .prefault({}),
  pipeline: z
    .object({
      stableSeconds: z.number().min(0).default(60).describe('Quiet period after the last instance of a series before it counts as complete'),
      pollMs: z.number().int().min(50).default(1000).describe('How often series stability and the job queue are checked'),
      maxAttempts: z.number().int().min(1).default(3).describe('Attempts per job before it is marked failed'),
      concurrency: z.number().int().min(1).default(1).describe('Jobs processed at once'),
    })
    .prefault({}),
  selection: z
    .object({
      modality: z.string().default('MR').describe('Modality of candidate series'),
      sagittalMaxAngleDeg: z.number().min(0).max(90).default(30).describe('Max angle between slice normal and patient left-right axis for a sagittal series'),
      requireOriginal: z.boolean().default(true).describe('Only ImageType ORIGINAL series qualify'),
      t1MaxTr: z.number().default(1000).describe('T1: TR below this (ms)'),
      t1MaxTe: z.number().default(30).describe('T1: TE below this (ms)'),
      t2MinTr: z.number().default(1500).describe('T2: TR above this (ms)'),
      t2MinTe: z.number().default(60).describe('T2: TE above this (ms)'),
      excludeDescription: z.string().default('stir|tirm|fs\\b|fat.?sat|spair|dixon|loc|scout|survey').describe('Regex (case-insensitive) of series descriptions that never qualify'),
      t1Description: z.string().default('t1').describe('Regex tie-breaker for T1 descriptions'),
      t2Description: z.string().default('t2').describe('Regex tie-breaker for T2 descriptions'),
      minSlices: z.number().int().min(1).default(5).describe('Minimum slices of a candidate series'),
    })
    .prefault({}),
  segmentation: z
    .object({
      model: z.string().default('models/vertebrae-seg.onnx').describe('ONNX segmentation model (path relative to the install folder or absolute)'),
      threads: z.number().int().min(1).max(16).default(2).describe('onnxruntime intra-op threads'),
      erosionMm: z
        .number()
        .min(0)
        .optional()
        .describe("Erosion of each body mask to exclude the cortical rim (mm). Unset: the scoring model's extraction.roi.erosionMm (1.5 for the shipped model). Set and different from the model's: the service refuses to start"),
    })
    .prefault({}),
  model: z
    .object({
      file: z.string().default('models/paper-t1t2.json').describe('Radscore model JSON (path relative to the install folder or absolute)'),
      requireCalibrated: z
        .boolean()
        .default(true)
        .describe('If true (default), a radscore from an uncalibrated model (e.g. the shipped placeholder normalisation) gives no flag: reports say "not interpretable until calibrated for this site"'),
      maxAbsZ: z.number().positive().default(4).describe('Out-of-range guard: a study with a model term |z| above this gives no flag (the reports name the term and its z); also for calibrated models'),
      rangeMarginSd: z.number().min(0).default(1).describe('Out-of-range guard: when the model records its calibration cohort\'s observed range per term, a value beyond it by more than this many model SDs gives no flag'),
    })
    .prefault({}),
  output: z
    .object({
      destination: z.string().default('').describe('Single destination shorthand AET@host:port (adds to destinations)'),
      destinations: z.array(destinationSchema).default([]).describe('PACS destinations for SR and summary image (items AET@host:port or objects; comma-separated in the env var)'),
      stow: z.array(stowSchema).default([]).describe('DICOMweb STOW-RS destinations for SR, summary image and SEG: items {url, auth: none|bearer|basic, token, user, password, caFile, timeoutSeconds} or a URL (env var: a JSON array, or comma-separated URLs without auth)'),
      webhooks: z.array(webhookSchema).default([]).describe('Webhooks notified when a study finishes: items {url, secret, onlyFlagged, caFile, timeoutSeconds} (env var: a JSON array). Body and signature: README, Webhook'),
      hl7: z
        .array(hl7Schema)
        .superRefine((list, ctx) => {
          // The outbox keys a receiver by host:port: two entries with the same one would be one destination.
          const seen = new Set<string>();
          list.forEach((d, i) => {
            const key = `${d.host}:${d.port}`;
            if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `${key} is listed twice (one entry per receiver)`, path: [i] });
            seen.add(key);
          });
        })
        .default([])
        .describe('HL7 v2 receivers of an ORU^R01 result message over MLLP: items {host, port, sendingApplication, sendingFacility, receivingApplication, receivingFacility, processingId, onlyFlagged, tls, caFile, timeoutSeconds} or "host:port" (env var: a JSON array, or comma-separated host:port). Message: README, HL7 v2'),
      fhir: z.array(fhirSchema).default([]).describe('FHIR R4 servers sent a DiagnosticReport and an Observation per result: items {url, auth: none|bearer|basic, token, user, password, caFile, onlyFlagged, timeoutSeconds} or a URL (env var: a JSON array, or comma-separated URLs without auth). Resources and codes: README, FHIR R4; patient identity: section identity'),
      folder: z.string().default('').describe('Also write outputs to this folder (empty = off)'),
      seg: z.boolean().default(false).describe('Also send a DICOM SEG of the measured ROI'),
      maxAgeHours: z.number().min(0).default(72).describe('Retry sending for this long, then dead-letter'),
      retryBaseSeconds: z.number().min(0).default(10).describe('First retry delay; doubles each attempt'),
    })
    .prefault({}),
  identity: z
    .object({
      patientIdAttribute: dicomKeyword.default('PatientID').describe('DICOM attribute (keyword) holding the patient identifier that FHIR and HL7 v2 outputs carry'),
      issuerAttribute: dicomKeyword.or(z.literal('')).default('IssuerOfPatientID').describe('DICOM attribute (keyword) naming who assigned the patient identifier (HL7 assigning authority; mapped to a FHIR identifier system); empty = not read'),
      defaultIssuer: z.string().default('').describe('Assigning authority used when the study has no issuer (empty = a study without one is not sent to FHIR/HL7 outputs: dead-lettered with the reason)'),
      issuerSystems: z
        .array(z.string().regex(/^[^=]+=\S+$/, 'expected ISSUER=system-URI'))
        .default([])
        .describe('FHIR Identifier.system per issuer, items ISSUER=URI (e.g. HOSP=urn:oid:1.2.3.4); an issuer that is already a URI (urn:, http(s)://) or an OID needs no entry'),
      accessionAttribute: dicomKeyword.default('AccessionNumber').describe('DICOM attribute (keyword) holding the accession number (HL7 filler order number; FHIR identifier of the order)'),
      accessionSystem: z.string().default('').describe('FHIR Identifier.system of accession numbers (the RIS that issues them); empty = the patient identifier system'),
    })
    .prefault({}),
  housekeeping: z
    .object({
      retentionDays: z.number().min(0).default(30).describe('Delete received instance files of finished studies older than this (0 = keep forever)'),
      retentionCron: z.string().default('17 3 * * *').describe('When retention runs (cron)'),
      outboxCron: z.string().default('*/1 * * * *').describe('When the outbox retry sweep runs (cron)'),
      vacuumCron: z.string().default('43 3 * * 0').describe('When SQLite is checkpointed/vacuumed (cron)'),
      summaryCron: z.string().default('0 6 * * *').describe('When the daily summary line is logged (cron)'),
    })
    .prefault({}),
  drift: z
    .object({
      maxZ: z.number().min(0).default(2).describe('Warn when a scanner\'s running feature mean is more than this many model SDs from the model mean'),
      minStudies: z.number().int().min(1).default(10).describe('Studies per scanner before drift is judged'),
    })
    .prefault({}),
  calibration: z
    .object({
      minStudies: z
        .number()
        .int()
        .min(2)
        .default(50)
        .describe('Assessable studies from one scanner (manufacturer / model / station) before the page proposes a calibration for it (admin approval)'),
    })
    .prefault({}),
  outcomes: z
    .object({
      windowDays: z.number().int().min(0).default(180).describe('A DXA result labels a screened study of the same patient (identity section) when it is at most this many days before or after the MRI; the nearest wins'),
      tScoreAbnormalAtOrBelow: z.number().default(-1).describe('Label rule (reference study): where the T-score applies (women, and anyone older than tScoreAgeOver), T-score at or below this = abnormal bone mass'),
      zScoreAbnormalBelow: z.number().default(-2).describe('Label rule (reference study): where the Z-score applies (men up to tScoreAgeOver), Z-score below this = abnormal bone mass'),
      tScoreAgeOver: z.number().default(50).describe('Label rule: patients older than this (and all women) are labelled by the T-score, the others by the Z-score'),
      minLabelled: z.number().int().min(2).default(100).describe('Labelled studies of one scanner before a labelled cut-off proposal is made (admin approval)'),
      minPerClass: z.number().int().min(1).default(30).describe('Of those, at least this many abnormal and this many normal'),
      cutoffMethod: z.enum(['youden', 'sensitivity']).default('youden').describe('How the proposed cut-off is chosen: youden (max sensitivity + specificity) or sensitivity (the highest cut-off that keeps targetSensitivity)'),
      targetSensitivity: z.number().gt(0).max(1).default(0.9).describe('Sensitivity the proposed cut-off must keep with cutoffMethod sensitivity'),
      rollingDays: z.number().int().min(1).default(90).describe('Length of the rolling windows (by MRI date) over which performance is also shown'),
      hl7Enabled: z.boolean().default(false).describe('Run the HL7 v2 ORU^R01 MLLP listener for DXA results'),
      hl7Port: z.number().int().min(0).max(65535).default(2576).describe('Port of the HL7 v2 DXA listener'),
      hl7Host: z.string().default('0.0.0.0').describe('Interface of the HL7 v2 DXA listener'),
      hl7AllowedSourceIps: z.array(z.string()).default([]).describe('Source IP addresses allowed to send DXA results (empty = accept all, logged as a warning)'),
      hl7AllowedSendingApplications: z.array(z.string()).default([]).describe('MSH-3 sending applications accepted (empty = any); others are answered AR'),
      hl7MaxMessageBytes: z.number().int().min(1024).default(1048576).describe('Largest HL7 message accepted; a larger one is answered AR and the connection closed'),
    })
    .prefault({}),
  backfill: z
    .object({
      maxConcurrent: z.number().int().min(1).default(2).describe('Backfill: at most this many studies retrieved from the PACS at once (all campaigns)'),
      maxPerHour: z.number().int().min(0).default(60).describe('Backfill: at most this many study retrievals started per hour (0 = no limit)'),
      schedule: z
        .string()
        .default('')
        .describe('Backfill: when retrievals may start, a cron-style minute pattern (e.g. "* 0-6,20-23 * * *" nights, "* * * * 0,6" weekends); empty = any time'),
      timeoutSeconds: z.number().min(1).default(300).describe('Backfill: limit for one C-FIND, C-MOVE, C-GET, QIDO-RS or WADO-RS exchange'),
      slowAnswerSeconds: z.number().min(0).default(10).describe('Backfill: a query answered slower than this makes the campaign back off (the PACS is busy; 0 = off)'),
      backoffSeconds: z.number().min(0).default(30).describe('Backfill: first pause after a refusal, time-out or slow answer; doubles each time, at most 1 h'),
      maxAttempts: z.number().int().min(1).default(5).describe('Backfill: retrieval attempts per study before it is failed'),
      queryDays: z.number().int().min(1).default(7).describe('Backfill: the date range is queried in slices of this many days'),
      retrieve: z
        .enum(['move', 'get'])
        .default('move')
        .describe('Backfill: how a DIMSE source is retrieved when the campaign does not say: move (C-MOVE to dicom.aeTitle; the PACS must know this service as a DICOM node) or get (C-GET: the instances come back on our own association)'),
      deleteAfterAnalysis: z.boolean().default(true).describe('Backfill: delete the retrieved instance files once the study is analysed (results, reports and audit stay)'),
      dicomweb: z
        .array(stowSchema)
        .default([])
        .describe('Backfill: credentials of DICOMweb sources, items {url, auth: none|bearer|basic, token, user, password, caFile, timeoutSeconds}; a campaign whose source is this URL uses them'),
    })
    .prefault({}),
  log: z
    .object({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Log level'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
