{{/*
Names and labels shared by every template.
*/}}

{{- define "admitone.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or <release> when the release name already holds the chart name. */}}
{{- define "admitone.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "admitone.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "admitone.labels" -}}
helm.sh/chart: {{ include "admitone.chart" . }}
app.kubernetes.io/name: {{ include "admitone.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: admitone
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "gateway"). */}}
{{- define "admitone.selectorLabels" -}}
app.kubernetes.io/name: {{ include "admitone.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "admitone.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "admitone.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "admitone.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret with the database and Redis URLs, the operator token and the webhook secret. */}}
{{- define "admitone.secretName" -}}
{{- default (include "admitone.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The Secret with the signing keys. */}}
{{- define "admitone.signingKeysSecretName" -}}
{{- default (printf "%s-signing-keys" (include "admitone.fullname" .)) .Values.signingKeys.existingSecret }}
{{- end }}

{{/* ADMITONE_DATABASE_URL: secret.databaseUrl, else built from externalDatabase (else empty). */}}
{{- define "admitone.databaseUrl" -}}
{{- if .Values.secret.databaseUrl }}
{{- .Values.secret.databaseUrl }}
{{- else if .Values.externalDatabase.host }}
{{- include "admitone.postgresUrl" (dict "db" .Values.externalDatabase "host" .Values.externalDatabase.host) }}
{{- end }}
{{- end }}

{{/* ADMITONE_DATABASE_REPLICA_URL: secret.databaseReplicaUrl, else externalDatabase.replicaHost's. */}}
{{- define "admitone.databaseReplicaUrl" -}}
{{- if .Values.secret.databaseReplicaUrl }}
{{- .Values.secret.databaseReplicaUrl }}
{{- else if .Values.externalDatabase.replicaHost }}
{{- include "admitone.postgresUrl" (dict "db" .Values.externalDatabase "host" .Values.externalDatabase.replicaHost) }}
{{- end }}
{{- end }}

{{- define "admitone.postgresUrl" -}}
{{- $d := .db }}
{{- $auth := urlquery $d.user }}
{{- if $d.password }}
{{- $auth = printf "%s:%s" $auth (urlquery $d.password) }}
{{- end }}
{{- printf "postgresql://%s@%s:%d/%s" $auth .host (int $d.port) $d.database }}
{{- if $d.sslmode }}?sslmode={{ $d.sslmode }}{{ end }}
{{- end }}

{{/*
ADMITONE_REDIS_URL: secret.redisUrl, else built from externalRedis in the form of its mode
(redis://, redis+sentinel://…/master/db or redis+cluster://; rediss for TLS).
*/}}
{{- define "admitone.redisUrl" -}}
{{- if .Values.secret.redisUrl }}
{{- .Values.secret.redisUrl }}
{{- else if .Values.externalRedis.hosts }}
{{- $r := .Values.externalRedis }}
{{- $scheme := ternary "rediss" "redis" $r.tls }}
{{- $auth := "" }}
{{- if $r.password }}
{{- $auth = printf "%s:%s@" (urlquery $r.username) (urlquery $r.password) }}
{{- end }}
{{- $hosts := join "," $r.hosts }}
{{- if eq $r.mode "cluster" }}
{{- printf "%s+cluster://%s%s" $scheme $auth $hosts }}
{{- else if eq $r.mode "sentinel" }}
{{- printf "%s+sentinel://%s%s/%s/%d" $scheme $auth $hosts $r.masterName (int $r.db) }}
{{- else }}
{{- printf "%s://%s%s/%d" $scheme $auth (first $r.hosts) (int $r.db) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment variables from the Secret, for the gateway and the scheduler.
*/}}
{{- define "admitone.secretEnv" -}}
- name: ADMITONE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: database-url
- name: ADMITONE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: redis-url
- name: ADMITONE_OPERATOR_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: operator-token
- name: ADMITONE_PAYMENT_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: payment-webhook-secret
- name: ADMITONE_DATABASE_REPLICA_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: database-replica-url
      optional: true
- name: ADMITONE_SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: smtp-url
      optional: true
- name: ADMITONE_RAZORPAY_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: razorpay-key-id
      optional: true
- name: ADMITONE_RAZORPAY_KEY_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: razorpay-key-secret
      optional: true
- name: ADMITONE_RAZORPAY_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: razorpay-webhook-secret
      optional: true
- name: ADMITONE_STRIPE_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: stripe-secret-key
      optional: true
- name: ADMITONE_STRIPE_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: stripe-webhook-secret
      optional: true
- name: ADMITONE_METRICS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: metrics-token
      optional: true
- name: ADMITONE_INTROSPECTION_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "admitone.secretName" . }}
      key: introspection-token
      optional: true
{{- end }}

{{/*
Pod template of the two Deployments: call with (dict "root" $ "component" "gateway"
"command" "serve" "backgroundJobs" false "spec" .Values.gateway). `serve` and `up` listen for
HTTP (port, probes); `jobs` does not.
*/}}
{{- define "admitone.podTemplate" -}}
{{- $root := .root }}
{{- $spec := .spec }}
{{- $http := ne .command "jobs" -}}
metadata:
  labels:
    {{- include "admitone.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  annotations:
    checksum/config: {{ toJson $root.Values.config | sha256sum }}
    checksum/secret: {{ toJson $root.Values.secret | sha256sum }}
    checksum/signing-keys: {{ toJson $root.Values.signingKeys | sha256sum }}
    {{- with $spec.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "admitone.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.serviceAccount.automountToken }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
  containers:
    - name: admitone
      image: {{ include "admitone.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command: ["admitone"]
      args: [{{ .command | quote }}]
      {{- if $http }}
      ports:
        - name: http
          containerPort: {{ $root.Values.containerPort }}
          protocol: TCP
      {{- end }}
      envFrom:
        - configMapRef:
            name: {{ include "admitone.fullname" $root }}
      env:
        - name: ADMITONE_HOST
          value: "0.0.0.0"
        - name: ADMITONE_PORT
          value: {{ $root.Values.containerPort | quote }}
        - name: ADMITONE_DATA_DIR
          value: {{ $root.Values.dataDir | quote }}
        - name: ADMITONE_BACKGROUND_JOBS
          value: {{ ternary "1" "0" .backgroundJobs | quote }}
        - name: PYTHONDONTWRITEBYTECODE
          value: "1"
        {{- include "admitone.secretEnv" $root | nindent 8 }}
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- if $http }}
      startupProbe:
        httpGet:
          path: {{ $root.Values.probes.startup.path }}
          port: http
        periodSeconds: {{ $root.Values.probes.startup.periodSeconds }}
        timeoutSeconds: {{ $root.Values.probes.startup.timeoutSeconds }}
        failureThreshold: {{ $root.Values.probes.startup.failureThreshold }}
      livenessProbe:
        httpGet:
          path: {{ $root.Values.probes.liveness.path }}
          port: http
        initialDelaySeconds: {{ $root.Values.probes.liveness.initialDelaySeconds }}
        periodSeconds: {{ $root.Values.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ $root.Values.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ $root.Values.probes.liveness.failureThreshold }}
      readinessProbe:
        httpGet:
          path: {{ $root.Values.probes.readiness.path }}
          port: http
        initialDelaySeconds: {{ $root.Values.probes.readiness.initialDelaySeconds }}
        periodSeconds: {{ $root.Values.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ $root.Values.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ $root.Values.probes.readiness.failureThreshold }}
      {{- else }}
      livenessProbe:
        exec:
          command: ["admitone", "jobs", "--check"]
        initialDelaySeconds: {{ $root.Values.probes.jobsLiveness.initialDelaySeconds }}
        periodSeconds: {{ $root.Values.probes.jobsLiveness.periodSeconds }}
        timeoutSeconds: {{ $root.Values.probes.jobsLiveness.timeoutSeconds }}
        failureThreshold: {{ $root.Values.probes.jobsLiveness.failureThreshold }}
      {{- end }}
      {{- if and (eq .component "gateway") (gt (int $root.Values.gateway.preStopSleepSeconds) 0) }}
      lifecycle:
        preStop:
          exec:
            command: ["sleep", {{ $root.Values.gateway.preStopSleepSeconds | quote }}]
      {{- end }}
      resources:
        {{- toYaml $spec.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: data
          mountPath: {{ $root.Values.dataDir }}
        - name: signing-keys
          mountPath: {{ printf "%s/keys" $root.Values.dataDir }}
          readOnly: true
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.volumes.tmpSizeLimit }}
    - name: data
      emptyDir:
        sizeLimit: {{ $root.Values.volumes.dataSizeLimit }}
    - name: signing-keys
      secret:
        secretName: {{ include "admitone.signingKeysSecretName" $root }}
        defaultMode: 0440
  {{- with $spec.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $spec.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  affinity:
    {{- if $spec.affinity }}
    {{- toYaml $spec.affinity | nindent 4 }}
    {{- else }}
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm:
            topologyKey: kubernetes.io/hostname
            labelSelector:
              matchLabels:
                {{- include "admitone.selectorLabels" (dict "root" $root "component" .component) | nindent 16 }}
    {{- end }}
  {{- with $spec.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
