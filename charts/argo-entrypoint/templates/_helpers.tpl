{{- define "argo-entrypoint.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "argo-entrypoint.namespace" -}}{{ default .Release.Namespace .Values.argo.namespace }}{{- end -}}
{{- define "argo-entrypoint.labels" -}}
app.kubernetes.io/name: argo-entrypoint
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "argo-entrypoint.selector" -}}
app.kubernetes.io/name: argo-entrypoint
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "argo-entrypoint.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
