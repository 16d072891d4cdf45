use rdkafka::error::KafkaError;

/// A failure at the Kafka edge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// librdkafka refused or failed an operation.
    #[error("kafka {op} failed against {brokers}: {source}")]
    Kafka {
        /// What we were doing.
        op: &'static str,
        /// The bootstrap servers.
        brokers: String,
        /// librdkafka's error.
        #[source]
        source: KafkaError,
    },
    /// A topic we need does not exist and could not be created.
    #[error("topic {topic} is missing on {brokers}; create it or let stakeflow create topics")]
    MissingTopic {
        /// The topic name.
        topic: String,
        /// The bootstrap servers.
        brokers: String,
    },
    /// The schema registry refused or failed a registration.
    #[error("schema registry {url}: registering {subject} failed: {reason}")]
    SchemaRegistry {
        /// Registry URL.
        url: String,
        /// Subject.
        subject: String,
        /// What happened.
        reason: String,
    },
    /// The embedded broker could not start.
    #[error("embedded kafka broker failed to start ({what}): {reason}")]
    EmbeddedBroker {
        /// Which step failed.
        what: &'static str,
        /// The underlying error.
        reason: String,
    },
    /// A stored position does not fit the partition as the broker has it
    /// (a recreated topic, a broker restored from an older copy, records
    /// deleted by retention, fewer partitions): reading on would silently skip
    /// or re-apply records, so the consumer stops.
    #[error("{topic} partition {partition}: {detail}")]
    PositionMismatch {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// What does not fit, and what to do.
        detail: String,
    },
    /// A topic exists with other settings than stakeflow needs.
    #[error("topic {topic}: {detail}")]
    TopicMismatch {
        /// Topic.
        topic: String,
        /// What differs, and what to do.
        detail: String,
    },
}

impl BusError {
    pub(crate) fn kafka<'a>(op: &'static str, brokers: &'a str) -> impl FnOnce(KafkaError) -> Self + 'a {
        move |source| BusError::Kafka { op, brokers: brokers.to_string(), source }
    }

    /// True when retrying later may succeed (broker down, timeouts).
    pub fn is_transient(&self) -> bool {
        match self {
            // A record too large stays too large: retrying would stall its stream forever.
            BusError::Kafka { source, .. } => !matches!(
                source.rdkafka_error_code(),
                Some(rdkafka::types::RDKafkaErrorCode::Fatal)
                    | Some(rdkafka::types::RDKafkaErrorCode::InvalidConfig)
                    | Some(rdkafka::types::RDKafkaErrorCode::MessageSizeTooLarge)
                    | Some(rdkafka::types::RDKafkaErrorCode::InvalidMessageSize)
            ),
            BusError::SchemaRegistry { .. } => true,
            BusError::MissingTopic { .. }
            | BusError::EmbeddedBroker { .. }
            | BusError::PositionMismatch { .. }
            | BusError::TopicMismatch { .. } => false,
        }
    }
}
