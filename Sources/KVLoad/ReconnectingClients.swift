import NIOCore

/// One blocking connection per endpoint, opened on first use and opened again once it dropped (a call
/// that timed out closes its connection). Not thread-safe: each thread keeps its own set.
public struct ReconnectingClients {
    public let endpoints: [(host: String, port: Int)]
    private let group: EventLoopGroup
    private let timeout: TimeAmount
    private let connector: RESPConnector
    private var slots: [BlockingRESPClient?]

    /// Every call through a client waits at most `timeout`, and so does connecting.
    public init(endpoints: [(host: String, port: Int)], group: EventLoopGroup, timeout: TimeAmount,
                connector: RESPConnector = .plain) {
        self.endpoints = endpoints
        self.group = group
        self.timeout = timeout
        self.connector = connector
        slots = Array(repeating: nil, count: endpoints.count)
    }

    /// The live connection to endpoint `i`, connecting when there is none.
    public mutating func client(_ i: Int) throws -> BlockingRESPClient {
        if let c = slots[i], c.isActive { return c }
        slots[i]?.close()
        let c = try BlockingRESPClient.connect(host: endpoints[i].host, port: endpoints[i].port, group: group,
                                               timeout: timeout, connector: connector)
        slots[i] = c
        return c
    }

    /// Closes every connection (the next `client(_:)` opens a new one).
    public mutating func closeAll() {
        for c in slots { c?.close() }
        slots = Array(repeating: nil, count: endpoints.count)
    }
}
