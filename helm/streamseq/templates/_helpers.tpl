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
{{- include "streamseq.validateDurations" . }}
{{- include "streamseq.validateModels" . }}
{{- if and (eq .Values.stateStore.type "rocksdb") (gt (int64 .Values.processing.maxLiveStreams) 0) }}
{{- fail (printf "processing.maxLiveStreams (%d) applies to stateStore.type memory only; the rocksdb store bounds its memory with stateStore.cacheBytes (set maxLiveStreams to 0)." (int64 .Values.processing.maxLiveStreams)) }}
{{- end }}
{{- range $key, $value := .Values.kafka.client }}
{{- $reserved := include "streamseq.reservedClientSetting" (dict "key" $key "value" (toString $value)) }}
{{- if $reserved }}
{{- fail (printf "kafka.client.%s (%v): %s" $key $value $reserved) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A duration value in milliseconds (a float), as the worker reads it: a number with units (100ms, 15s, 1m, 1h30m, 2d) or
a .NET TimeSpan ([d.]hh:mm:ss[.fffffff]); the schema has already checked the form.
*/}}
{{- define "streamseq.durationMs" -}}
{{- $text := toString . }}
{{- $ms := 0.0 }}
{{- if regexMatch "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$" $text }}
{{- $units := dict "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 "d" 86400000.0 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)" $text -1 }}
{{- $unit := regexFind "(ms|s|m|h|d)$" . }}
{{- $ms = addf $ms (mulf (float64 (trimSuffix $unit .)) (get $units $unit)) }}
{{- end }}
{{- else }}
{{- $parts := splitList "|" (regexReplaceAll "^(?:([0-9]+)\\.)?([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\\.([0-9]{1,7}))?$" $text "${1}|${2}|${3}|${4}|${5}") }}
{{- $days := float64 (default "0" (index $parts 0)) }}
{{- $seconds := addf (mulf $days 86400.0) (mulf (float64 (index $parts 1)) 3600.0) (mulf (float64 (index $parts 2)) 60.0) (float64 (index $parts 3)) }}
{{- $ms = addf (mulf $seconds 1000.0) (mulf (float64 (printf "0.%s" (default "0" (index $parts 4)))) 1000.0) }}
{{- end }}
{{- $ms }}
{{- end }}

{{/* The worker's range of every duration value (its settings' [Range] attributes), and the order between them. */}}
{{- define "streamseq.validateDurations" -}}
{{- $checks := list
  (list "kafka.commitInterval" .Values.kafka.commitInterval 1.0 600000.0 "1ms" "10m")
  (list "kafka.transactionTimeout" .Values.kafka.transactionTimeout 1000.0 900000.0 "1s" "15m")
  (list "kafka.stallTimeout" .Values.kafka.stallTimeout 1000.0 86400000.0 "1s" "1d")
  (list "kafka.sessionTimeout" .Values.kafka.sessionTimeout 1000.0 1800000.0 "1s" "30m")
  (list "processing.allowedLateness" .Values.processing.allowedLateness 0.0 86400000.0 "0s" "1d")
  (list "processing.maxTimeSkew" .Values.processing.maxTimeSkew 0.0 31536000000.0 "0s" "365d")
  (list "stateStore.checkpointInterval" .Values.stateStore.checkpointInterval 100.0 3600000.0 "100ms" "1h")
}}
{{- range $checks }}
{{- $ms := float64 (include "streamseq.durationMs" (index . 1)) }}
{{- if or (lt $ms (index . 2)) (gt $ms (index . 3)) }}
{{- fail (printf "%s (%s) must be between %s and %s." (index . 0) (index . 1) (index . 4) (index . 5)) }}
{{- end }}
{{- end }}
{{- $commit := float64 (include "streamseq.durationMs" .Values.kafka.commitInterval) }}
{{- $transaction := float64 (include "streamseq.durationMs" .Values.kafka.transactionTimeout) }}
{{- $stall := float64 (include "streamseq.durationMs" .Values.kafka.stallTimeout) }}
{{- if ge $commit $transaction }}
{{- fail (printf "kafka.commitInterval (%s) must be shorter than kafka.transactionTimeout (%s): a transaction stays open for the commit interval." .Values.kafka.commitInterval .Values.kafka.transactionTimeout) }}
{{- end }}
{{- if le $stall $transaction }}
{{- fail (printf "kafka.stallTimeout (%s) must be longer than kafka.transactionTimeout (%s): one commit attempt may take that long." .Values.kafka.stallTimeout .Values.kafka.transactionTimeout) }}
{{- end }}
{{- end }}

{{/* Every model name is unique, and routes, defaultModel and modelSettings name models that exist. */}}
{{- define "streamseq.validateModels" -}}
{{- $names := list }}
{{- range .Values.models }}
{{- if has (lower .name) $names }}
{{- fail (printf "models: the name %s is given twice (names are case-insensitive)." .name) }}
{{- end }}
{{- $names = append $names (lower .name) }}
{{- end }}
{{- $list := list }}
{{- range .Values.models }}{{- $list = append $list .name }}{{- end }}
{{- range $i, $route := .Values.routes }}
{{- if not (has (lower $route.model) $names) }}
{{- fail (printf "routes[%d].model: there is no model named %s (models: %s)." $i $route.model (join ", " $list)) }}
{{- end }}
{{- if and $route.routeKey (not $.Values.kafka.routeHeader) }}
{{- fail (printf "routes[%d].routeKey (%s) can never match: kafka.routeHeader is empty, so no header routes streams." $i $route.routeKey) }}
{{- end }}
{{- end }}
{{- if and .Values.defaultModel (not (has (lower .Values.defaultModel) $names)) }}
{{- fail (printf "defaultModel: there is no model named %s (models: %s)." .Values.defaultModel (join ", " $list)) }}
{{- end }}
{{- range $name, $_ := .Values.modelSettings }}
{{- if not (has (lower $name) $names) }}
{{- fail (printf "modelSettings.%s: there is no model named %s (models: %s)." $name $name (join ", " $list)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Why a kafka.client property contradicts what the worker sets itself (its ReservedClientSettings), or nothing.
*/}}
{{- define "streamseq.reservedClientSetting" -}}
{{- $key := .key }}
{{- $value := lower (trim .value) }}
{{- $owned := dict "bootstrap.servers" "kafka.bootstrapServers" "metadata.broker.list" "kafka.bootstrapServers" "group.id" "kafka.groupId" "group.protocol" "kafka.groupProtocol" "transactional.id" "kafka.groupId and the pod name" "transaction.timeout.ms" "kafka.transactionTimeout" "session.timeout.ms" "kafka.sessionTimeout" }}
{{- $fixed := dict "enable.idempotence" (list "true" "t" "1") "acks" (list "all" "-1") "request.required.acks" (list "all" "-1") "isolation.level" (list "read_committed") "enable.auto.commit" (list "false" "f" "0") "enable.auto.offset.store" (list "false" "f" "0") "partition.assignment.strategy" (list "cooperative-sticky") }}
{{- if hasKey $owned $key }}
{{- printf "the worker sets %s from %s; set that instead." $key (get $owned $key) }}
{{- else if has $key (list "enable.partition.eof" "consume.result.fields") }}
{{- printf "the worker sets %s for each of its clients; leave it out." $key }}
{{- else if and (hasKey $fixed $key) (not (has $value (get $fixed $key))) }}
{{- printf "must be %s or left out: the worker's exactly-once processing depends on it." (first (get $fixed $key)) }}
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
  "StallTimeout" .Values.kafka.stallTimeout
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
