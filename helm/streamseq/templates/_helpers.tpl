{{/* Chart name. */}}
{{- define "streamseq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "streamseq.fullname" -}}
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

{{- define "streamseq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamseq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamseq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "streamseq.labels" -}}
helm.sh/chart: {{ include "streamseq.chart" . }}
{{ include "streamseq.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: worker
app.kubernetes.io/part-of: streamseq
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "streamseq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamseq.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given (the tag is then ignored), else repository:tag. */}}
{{- define "streamseq.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the model ConfigMap is mounted (StreamSeq:ModelFiles:0). */}}
{{- define "streamseq.modelsPath" -}}/etc/streamseq/models{{- end }}

{{/* Where the TLS secret is mounted. */}}
{{- define "streamseq.tlsPath" -}}/etc/streamseq/kafka-tls{{- end }}

{{/* Checks that cannot be expressed in values.schema.json. */}}
{{- define "streamseq.validate" -}}
{{- $partitions := int .Values.kafka.inputPartitions }}
{{- if not .Values.kafka.bootstrapServers }}
{{- fail "kafka.bootstrapServers is required (host:port[,host:port...] of your Kafka cluster)." }}
{{- end }}
{{- if gt (int .Values.replicaCount) $partitions }}
{{- fail (printf "replicaCount (%d) exceeds kafka.inputPartitions (%d): the extra workers would own no partition." (int .Values.replicaCount) $partitions) }}
{{- end }}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled both create a HorizontalPodAutoscaler; enable one of them." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- fail (printf "autoscaling.maxReplicas (%d) exceeds kafka.inputPartitions (%d)." (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicaCount) $partitions) }}
{{- fail (printf "keda.maxReplicaCount (%d) exceeds kafka.inputPartitions (%d)." (int .Values.keda.maxReplicaCount) $partitions) }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret (a Secret with the SASL username and password)." }}
{{- end }}
{{- if and .Values.kafka.tls.certificateKey (not .Values.kafka.tls.existingSecret) }}
{{- fail "kafka.tls.certificateKey needs kafka.tls.existingSecret." }}
{{- end }}
{{- if and .Values.kafka.tls.certificateKey (not .Values.kafka.tls.privateKeyKey) }}
{{- fail "kafka.tls.certificateKey needs kafka.tls.privateKeyKey (the client key of mutual TLS)." }}
{{- end }}
{{- if and (eq .Values.stateStore.type "rocksdb") (ne .Values.workload.kind "StatefulSet") }}
{{- fail "stateStore.type rocksdb needs workload.kind StatefulSet: the store lives on a PersistentVolumeClaim per pod, which only a StatefulSet keeps across restarts under the same pod name." }}
{{- end }}
{{- if and (eq .Values.stateStore.standby "all") (ne .Values.stateStore.type "rocksdb") }}
{{- fail "stateStore.standby all needs stateStore.type rocksdb: standby copies live in the disk store." }}
{{- end }}
{{- if eq (len .Values.models) 0 }}
{{- fail "models: at least one model spec is needed." }}
{{- end }}
{{- end }}

{{/* "true" when the Kafka connection uses TLS (SSL or SASL_SSL). */}}
{{- define "streamseq.usesTls" -}}
{{- if or .Values.kafka.tls.enabled (and .Values.kafka.sasl.enabled (eq .Values.kafka.sasl.securityProtocol "SASL_SSL")) }}true{{- end }}
{{- end }}

{{/* The librdkafka pass-through settings: user settings plus what sasl/tls imply (secrets come from env, not here). */}}
{{- define "streamseq.kafkaClient" -}}
{{- $client := deepCopy .Values.kafka.client }}
{{- if .Values.kafka.sasl.enabled }}
{{- $_ := set $client "security.protocol" .Values.kafka.sasl.securityProtocol }}
{{- $_ := set $client "sasl.mechanism" .Values.kafka.sasl.mechanism }}
{{- else if .Values.kafka.tls.enabled }}
{{- $_ := set $client "security.protocol" "SSL" }}
{{- end }}
{{- if include "streamseq.usesTls" . }}
{{- if .Values.kafka.tls.existingSecret }}
{{- $_ := set $client "ssl.ca.location" (printf "%s/%s" (include "streamseq.tlsPath" .) .Values.kafka.tls.caKey) }}
{{- if .Values.kafka.tls.certificateKey }}
{{- $_ := set $client "ssl.certificate.location" (printf "%s/%s" (include "streamseq.tlsPath" .) .Values.kafka.tls.certificateKey) }}
{{- $_ := set $client "ssl.key.location" (printf "%s/%s" (include "streamseq.tlsPath" .) .Values.kafka.tls.privateKeyKey) }}
{{- end }}
{{- else if not (hasKey $client "ssl.ca.location") }}
{{- /* No CA secret: let librdkafka find the image's system CA bundle. */}}
{{- $_ := set $client "ssl.ca.location" "probe" }}
{{- end }}
{{- end }}
{{- toJson $client }}
{{- end }}

{{/* appsettings.json for the worker (replaces the image's file, which carries the embedded-mode demo models). */}}
{{- define "streamseq.settings" -}}
{{- $routes := list }}
{{- range .Values.routes }}
{{- $route := dict "Model" .model }}
{{- if .streamPattern }}{{- $_ := set $route "StreamPattern" .streamPattern }}{{- end }}
{{- if .routeKey }}{{- $_ := set $route "RouteKey" .routeKey }}{{- end }}
{{- $routes = append $routes $route }}
{{- end }}
{{- $modelSettings := dict }}
{{- range $name, $s := .Values.modelSettings }}
{{- $entry := dict }}
{{- if hasKey $s "lag" }}{{- $_ := set $entry "Lag" $s.lag }}{{- end }}
{{- if hasKey $s "horizon" }}{{- $_ := set $entry "Horizon" $s.horizon }}{{- end }}
{{- $_ := set $modelSettings $name $entry }}
{{- end }}
{{- $kafka := dict
  "BootstrapServers" .Values.kafka.bootstrapServers
  "GroupId" .Values.kafka.groupId
  "InputTopic" .Values.kafka.topics.input
  "FilteredTopic" .Values.kafka.topics.filtered
  "SmoothedTopic" .Values.kafka.topics.smoothed
  "ForecastTopic" .Values.kafka.topics.forecasts
  "AnomalyTopic" .Values.kafka.topics.anomalies
  "DeadLetterTopic" .Values.kafka.topics.deadLetters
  "ChangelogTopic" .Values.kafka.topics.changelog
  "CommitInterval" .Values.kafka.commitInterval
  "MaxBatchSize" .Values.kafka.maxBatchSize
  "TransactionTimeout" .Values.kafka.transactionTimeout
  "CreateTopics" .Values.kafka.createTopics
  "TopicPartitions" .Values.kafka.inputPartitions
  "ReplicationFactor" .Values.kafka.replicationFactor
  "RouteHeader" .Values.kafka.routeHeader
  "GroupProtocol" .Values.kafka.groupProtocol
  "SessionTimeout" .Values.kafka.sessionTimeout
  "Client" (include "streamseq.kafkaClient" . | fromJson)
}}
{{- $processing := dict
  "Lag" .Values.processing.lag
  "Horizon" .Values.processing.horizon
  "AllowedLateness" .Values.processing.allowedLateness
  "MaxTimeSkew" .Values.processing.maxTimeSkew
  "MaxComponents" .Values.processing.maxComponents
  "MaxRecordBytes" .Values.processing.maxRecordBytes
  "MaxLiveStreams" .Values.processing.maxLiveStreams
}}
{{- if eq .Values.stateStore.type "rocksdb" }}
{{- $_ := set $processing "StateStore" "rocksdb" }}
{{- $_ := set $processing "StateDirectory" (include "streamseq.statePath" .) }}
{{- $_ := set $processing "CacheBytes" .Values.stateStore.cacheBytes }}
{{- $_ := set $processing "CheckpointInterval" .Values.stateStore.checkpointInterval }}
{{- $_ := set $processing "Standby" .Values.stateStore.standby }}
{{- end }}
{{- $streamseq := dict
  "Kafka" $kafka
  "Processing" $processing
  "ModelFiles" (list (include "streamseq.modelsPath" .))
  "Routes" $routes
  "ModelSettings" $modelSettings
  "Dashboard" (dict "Enabled" .Values.dashboard.enabled)
}}
{{- if .Values.defaultModel }}{{- $_ := set $streamseq "DefaultModel" .Values.defaultModel }}{{- end }}
{{- $logging := dict "LogLevel" (dict "Default" .Values.logLevel "Microsoft.AspNetCore" "Warning" "Microsoft.Hosting.Lifetime" "Information") }}
{{- $settings := dict "Logging" $logging "StreamSeq" $streamseq }}
{{- toPrettyJson $settings }}
{{- end }}

{{/* Where the disk store's volume is mounted (StreamSeq:Processing:StateDirectory). */}}
{{- define "streamseq.statePath" -}}
/var/lib/streamseq/state
{{- end }}
