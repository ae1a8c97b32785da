{{- define "wubloader.fullname" -}}
{{- printf "%s-wubloader" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "wubloader.labels" -}}
app.kubernetes.io/name: wubloader
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "wubloader.selector" -}}
app.kubernetes.io/name: wubloader
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wubloader.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{- define "wubloader.dbSecret" -}}
{{- .Values.database.existingSecret | default (printf "%s-db" (include "wubloader.fullname" .)) -}}
{{- end -}}

{{/* The DB URL for a container, from the Secret; `required` fails the render when none is configured. */}}
{{- define "wubloader.dbEnv" -}}
{{- if not (or .Values.database.existingSecret .Values.database.url) -}}
{{- required "set database.url or database.existingSecret (a postgresql:// URL)" "" -}}
{{- end -}}
- name: WUBLOADER_DB
  valueFrom:
    secretKeyRef:
      name: {{ include "wubloader.dbSecret" . }}
      key: {{ .Values.database.secretKey }}
{{- end -}}

{{- define "wubloader.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "wubloader.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Probes on the health routes every wubloader HTTP server answers. */}}
{{- define "wubloader.probes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 15
  timeoutSeconds: 5
  failureThreshold: 4
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 5
  failureThreshold: 60
{{- end -}}
