import { Type, type Static } from '@sinclair/typebox';

/**
 * The job configuration format (`job/config.yaml`, apiVersion v2): JES-compatible, plus imagePullSecrets, labels,
 * nodeSelector, tolerations and single-key secret env. This TypeBox schema is the single source: the validator uses
 * it and `npm run schema` writes it out as `schema/job-config.schema.json` for editors.
 */

const strict = { additionalProperties: false } as const;
const StringList = (description: string) => Type.Array(Type.String(), { description });
const StringMap = (description: string) =>
  Type.Record(Type.String(), Type.String(), { description: `${description} (a map of string to string)` });
const Quantity = Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], {
  description: 'a Kubernetes quantity such as 500m, 1 or 256Mi',
});

export const JsonPathFilterSchema = Type.Object(
  {
    property: Type.String({
      minLength: 1,
      description: 'a JSONPath into the event, e.g. $.data.test.teststrategy',
    }),
    match: Type.Unknown({ description: 'the value to compare with (any JSON value, compared by value)' }),
  },
  { ...strict, description: 'run only when the value at `property` equals `match`' },
);

export const EventMatchSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      description:
        'a CloudEvent type or a glob over its dot-separated segments: * = one segment, ** = any number',
    }),
    jsonpath: Type.Optional(JsonPathFilterSchema),
  },
  strict,
);

export const EnvVarSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      description:
        'the variable name; for valueFrom secret without `secret`, the name of the Secret to import',
    }),
    valueFrom: Type.Union([Type.Literal('event'), Type.Literal('secret'), Type.Literal('string')]),
    value: Type.Optional(Type.String({ description: 'a JSONPath for event, the literal for string' })),
    as: Type.Optional(Type.Union([Type.Literal('string'), Type.Literal('json'), Type.Literal('yaml')])),
    secret: Type.Optional(Type.String({ minLength: 1, description: 'a Secret name (single-key form)' })),
    key: Type.Optional(Type.String({ minLength: 1, description: 'the key in `secret` (single-key form)' })),
  },
  strict,
);

export const ResourcesSchema = Type.Object(
  {
    limits: Type.Optional(
      Type.Object({ cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) }, strict),
    ),
    requests: Type.Optional(
      Type.Object({ cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) }, strict),
    ),
  },
  strict,
);

export const SecurityContextSchema = Type.Object(
  {
    capabilities: Type.Optional(
      Type.Object(
        { add: Type.Optional(StringList('capabilities')), drop: Type.Optional(StringList('capabilities')) },
        strict,
      ),
    ),
    privileged: Type.Optional(Type.Boolean()),
    runAsUser: Type.Optional(Type.Integer({ minimum: 0 })),
    runAsGroup: Type.Optional(Type.Integer({ minimum: 0 })),
    runAsNonRoot: Type.Optional(Type.Boolean()),
    readOnlyRootFilesystem: Type.Optional(Type.Boolean()),
    allowPrivilegeEscalation: Type.Optional(Type.Boolean()),
    procMount: Type.Optional(Type.Union([Type.Literal('Default'), Type.Literal('Unmasked')])),
    seccompProfile: Type.Optional(
      Type.Object(
        {
          type: Type.Union([
            Type.Literal('RuntimeDefault'),
            Type.Literal('Localhost'),
            Type.Literal('Unconfined'),
          ]),
          localhostProfile: Type.Optional(Type.String()),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const TolerationSchema = Type.Object(
  {
    key: Type.Optional(Type.String()),
    operator: Type.Optional(Type.Union([Type.Literal('Exists'), Type.Literal('Equal')])),
    value: Type.Optional(Type.String()),
    effect: Type.Optional(
      Type.Union([Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')]),
    ),
    tolerationSeconds: Type.Optional(Type.Integer()),
  },
  strict,
);

export const TaskSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    image: Type.String({ minLength: 1, description: 'a container image reference' }),
    imagePullPolicy: Type.Optional(
      Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')]),
    ),
    imagePullSecrets: Type.Optional(StringList('names of Secrets of type kubernetes.io/dockerconfigjson')),
    cmd: Type.Optional(StringList('the container command')),
    args: Type.Optional(StringList('the container arguments')),
    files: Type.Optional(StringList('Keptn resources (files or directories) copied to /keptn/<path>')),
    env: Type.Optional(Type.Array(EnvVarSchema)),
    resources: Type.Optional(ResourcesSchema),
    workingDir: Type.Optional(Type.String()),
    maxPollDuration: Type.Optional(
      Type.Integer({ minimum: 1, description: 'the task timeout in seconds (the Job is stopped after it)' }),
    ),
    namespace: Type.Optional(Type.String({ minLength: 1 })),
    serviceAccount: Type.Optional(Type.String({ minLength: 1 })),
    ttlSecondsAfterFinished: Type.Optional(Type.Integer({ minimum: 0 })),
    securityContext: Type.Optional(SecurityContextSchema),
    annotations: Type.Optional(StringMap('annotations on the Job')),
    labels: Type.Optional(StringMap('labels on the Job and its pod')),
    nodeSelector: Type.Optional(StringMap('node labels the pod must run on')),
    tolerations: Type.Optional(Type.Array(TolerationSchema)),
  },
  strict,
);

export const ActionSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    events: Type.Array(EventMatchSchema, { minItems: 1 }),
    silent: Type.Optional(Type.Boolean({ description: 'send no .started/.finished for this action' })),
    tasks: Type.Array(TaskSchema, { minItems: 1 }),
  },
  strict,
);

export const JobConfigSchema = Type.Object(
  {
    apiVersion: Type.Literal('v2'),
    actions: Type.Array(ActionSchema, { minItems: 1 }),
  },
  {
    ...strict,
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://jes.dev/schema/job-config.schema.json',
    title: 'Job executor configuration (job/config.yaml)',
  },
);

export type JobConfig = Static<typeof JobConfigSchema>;
export type Action = Static<typeof ActionSchema>;
export type Task = Static<typeof TaskSchema>;
export type EnvVar = Static<typeof EnvVarSchema>;
export type EventMatch = Static<typeof EventMatchSchema>;
export type SecurityContextConfig = Static<typeof SecurityContextSchema>;
