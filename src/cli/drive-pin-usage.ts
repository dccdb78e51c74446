/** Usage lines of `shadw drive pin` and `shadw drive status`, shown in `shadw help`. */
export const DRIVE_PIN_USAGE = `shadw drive pin <DRIVE> [--replicas N | --erasure K+M] [--storage DIR] [--timeout MS] [--grace MS] [--bootstrap host:port[,…] | --node URL] [--json]
shadw drive status <DRIVE> [--grace MS] [--bootstrap host:port[,…] | --node URL] [--json]`
