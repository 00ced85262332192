import RESP

/// What the node knows about one client connection: who it is, whether it has authenticated,
/// which protocol version it speaks. Owned by the connection's event loop.
public struct ClientSession: Sendable {
    public let id: Int
    public var authenticated: Bool
    public var protocolVersion: RESPVersion = .v2
    public var name: String = ""
    public var libraryName: String = ""
    public var libraryVersion: String = ""
    public let remoteAddress: String
    public let connectedAtMillis: Int64
    public var commandsProcessed = 0

    public init(id: Int, authenticated: Bool, remoteAddress: String, connectedAtMillis: Int64) {
        self.id = id
        self.authenticated = authenticated
        self.remoteAddress = remoteAddress
        self.connectedAtMillis = connectedAtMillis
    }
}
