{{/* vim: set filetype=mustache: */}}

{{- define "firebreak.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "firebreak.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "firebreak.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "firebreak.selectorLabels" -}}
app.kubernetes.io/name: {{ include "firebreak.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "firebreak.labels" -}}
helm.sh/chart: {{ include "firebreak.chart" . }}
{{ include "firebreak.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: firebreak
{{- end -}}

{{/* Labels of one component. Call with (dict "ctx" $ "component" "web"). */}}
{{- define "firebreak.componentLabels" -}}
{{ include "firebreak.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "firebreak.componentSelectorLabels" -}}
{{ include "firebreak.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "firebreak.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "firebreak.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "firebreak.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret the chart creates for values given inline. */}}
{{- define "firebreak.secretName" -}}
{{- include "firebreak.fullname" . -}}
{{- end -}}

{{/* True when the chart must create its Secret (any secret value not taken from an existing one). */}}
{{- define "firebreak.createSecret" -}}
{{- $v := .Values -}}
{{- if or (not $v.database.existingSecret) (not $v.redis.existingSecret) (not $v.secretKey.existingSecret) (and (eq $v.config.smsBackend "twilio") (not $v.twilio.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{/* secretKeyRef for one setting. Call with (dict "ctx" $ "existing" "..." "existingKey" "..." "key" "..." "optional" false). */}}
{{- define "firebreak.secretKeyRef" -}}
secretKeyRef:
  {{- if .existing }}
  name: {{ .existing }}
  key: {{ .existingKey }}
  {{- else }}
  name: {{ include "firebreak.secretName" .ctx }}
  key: {{ .key }}
  {{- end }}
  {{- if .optional }}
  optional: true
  {{- end }}
{{- end -}}

{{/*
Environment of every Firebreak container. Secrets only through secretKeyRef; nothing secret is
ever written into a pod spec.
*/}}
{{- define "firebreak.env" -}}
{{- include "firebreak.envWith" (dict "ctx" . "playbooksDir" (include "firebreak.playbooksDir" .)) -}}
{{- end -}}

{{/* Same, with an explicit playbooks directory. Call with (dict "ctx" $ "playbooksDir" "..."). */}}
{{- define "firebreak.envWith" -}}
{{- $ctx := .ctx -}}
{{- $v := .ctx.Values -}}
- name: FIREBREAK_DATABASE_URL
  valueFrom:
    {{- include "firebreak.secretKeyRef" (dict "ctx" $ctx "existing" $v.database.existingSecret "existingKey" $v.database.existingSecretKey "key" "database-url") | nindent 4 }}
- name: FIREBREAK_REDIS_URL
  valueFrom:
    {{- include "firebreak.secretKeyRef" (dict "ctx" $ctx "existing" $v.redis.existingSecret "existingKey" $v.redis.existingSecretKey "key" "redis-url") | nindent 4 }}
- name: FIREBREAK_SECRET_KEY
  valueFrom:
    {{- include "firebreak.secretKeyRef" (dict "ctx" $ctx "existing" $v.secretKey.existingSecret "existingKey" $v.secretKey.existingSecretKey "key" "secret-key") | nindent 4 }}
- name: FIREBREAK_PUBLIC_URL
  value: {{ $v.config.publicUrl | quote }}
- name: FIREBREAK_LOG_LEVEL
  value: {{ $v.config.logLevel | quote }}
- name: FIREBREAK_TRUSTED_PROXIES
  value: {{ include "firebreak.trustedProxies" $ctx | quote }}
- name: FIREBREAK_PLAYBOOKS_DIR
  value: {{ .playbooksDir | quote }}
- name: FIREBREAK_SMS_BACKEND
  value: {{ $v.config.smsBackend | quote }}
{{- if eq $v.config.smsBackend "twilio" }}
- name: FIREBREAK_TWILIO_ACCOUNT_SID
  valueFrom:
    {{- include "firebreak.secretKeyRef" (dict "ctx" $ctx "existing" $v.twilio.existingSecret "existingKey" $v.twilio.accountSidKey "key" "twilio-account-sid") | nindent 4 }}
- name: FIREBREAK_TWILIO_AUTH_TOKEN
  valueFrom:
    {{- include "firebreak.secretKeyRef" (dict "ctx" $ctx "existing" $v.twilio.existingSecret "existingKey" $v.twilio.authTokenKey "key" "twilio-auth-token") | nindent 4 }}
{{- with $v.config.twilio.messagingServiceSid }}
- name: FIREBREAK_TWILIO_MESSAGING_SERVICE_SID
  value: {{ . | quote }}
{{- end }}
{{- with $v.config.twilio.fromNumber }}
- name: FIREBREAK_TWILIO_FROM_NUMBER
  value: {{ . | quote }}
{{- end }}
{{- with $v.config.twilio.apiBaseUrl }}
- name: FIREBREAK_TWILIO_API_BASE_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := $v.config.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- range $name, $ref := $v.config.extraEnvFromSecrets }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* Proxy hops to trust: config.trustedProxies, else 1 behind the chart's ingress, else 0. */}}
{{- define "firebreak.trustedProxies" -}}
{{- $hops := .Values.config.trustedProxies -}}
{{- if kindIs "invalid" $hops -}}
{{- ternary 1 0 .Values.ingress.enabled -}}
{{- else -}}
{{- int $hops -}}
{{- end -}}
{{- end -}}

{{/* Where the containers read playbooks: the ConfigMap mount, or the directory in the image. */}}
{{- define "firebreak.playbooksDir" -}}
{{- if eq .Values.playbooks.source "image" -}}
{{- .Values.config.playbooksDir -}}
{{- else -}}
/etc/firebreak/playbooks
{{- end -}}
{{- end -}}

{{/* Playbook files for the ConfigMap (values or chart files), as a YAML map. */}}
{{- define "firebreak.playbooksData" -}}
{{- if eq .Values.playbooks.source "values" -}}
{{- range $name, $body := .Values.playbooks.inline }}
{{ $name }}: {{ $body | toString | quote }}
{{- end }}
{{- else if eq .Values.playbooks.source "files" -}}
{{- range $path, $_ := .Files.Glob .Values.playbooks.filesGlob }}
{{ base $path }}: {{ $.Files.Get $path | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Name of the playbooks ConfigMap: content-addressed, so old pods keep the playbooks they validated. */}}
{{- define "firebreak.playbooksConfigMapName" -}}
{{- printf "%s-playbooks-%s" (include "firebreak.fullname" . | trunc 40 | trimSuffix "-") (include "firebreak.playbooksData" . | sha256sum | trunc 10) -}}
{{- end -}}

{{- define "firebreak.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "firebreak.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Volumes shared by every Firebreak pod. */}}
{{- define "firebreak.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- if ne .Values.playbooks.source "image" }}
- name: playbooks
  configMap:
    name: {{ include "firebreak.playbooksConfigMapName" . }}
{{- end }}
{{- end -}}

{{- define "firebreak.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if ne .Values.playbooks.source "image" }}
- name: playbooks
  mountPath: /etc/firebreak/playbooks
  readOnly: true
{{- end }}
{{- end -}}

{{/* Checksums that roll the pods when their configuration changes. */}}
{{- define "firebreak.podAnnotations" -}}
checksum/config: {{ toJson (pick .Values "config" "database" "redis" "secretKey" "twilio") | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Common pod spec fields. */}}
{{- define "firebreak.podCommon" -}}
serviceAccountName: {{ include "firebreak.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "firebreak.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* initContainer that refuses to start the pod when a playbook is invalid. */}}
{{- define "firebreak.validatePlaybooksInitContainer" -}}
- name: validate-playbooks
  image: {{ include "firebreak.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["firebreak", "playbooks", "validate", {{ include "firebreak.playbooksDir" . | quote }}]
  env:
    {{- include "firebreak.env" . | nindent 4 }}
  securityContext:
    {{- include "firebreak.containerSecurityContext" . | nindent 4 }}
  resources:
    requests:
      cpu: 50m
      memory: 64Mi
    limits:
      memory: 256Mi
  volumeMounts:
    {{- include "firebreak.volumeMounts" . | nindent 4 }}
{{- end -}}
