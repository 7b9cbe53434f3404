{{- define "argo-entrypoint.secretEnv" -}}
- name: DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.database.urlSecret }}, key: url } }
- name: S3_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.objectStore.credentialsSecret }}, key: accessKey } }
- name: S3_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.objectStore.credentialsSecret }}, key: secretKey } }
- name: ARCHIVE_S3_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.argo.artifactRepository.credentialsSecret }}, key: accessKey } }
- name: ARCHIVE_S3_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.argo.artifactRepository.credentialsSecret }}, key: secretKey } }
{{- end -}}
