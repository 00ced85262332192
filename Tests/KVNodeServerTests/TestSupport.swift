import Glibc
import KVNodeServer
import KVStorage
import Logging
import NIOCore
import RESP

/// A temporary directory removed when the value is dropped via `remove()`.
struct TempDir {
    let path: String

    init(_ label: String = "kvnode-test") {
        var template = Array("/tmp/\(label).XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(p != nil, "mkdtemp failed")
        path = String(cString: p!)
    }

    func remove() {
        _ = system("rm -rf '\(path)'")
    }
}

/// A blocking RESP client over a plain socket: the test's view of the wire, independent of NIO.
final class BlockingClient {
    private(set) var fd: Int32
    private var parser = RESPValueParser()
    private var buffer = ByteBuffer()

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.io("socket") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let error = errno
            // A class whose stored properties are all set runs deinit when its init throws: close once, or the
            // second close hits whatever socket the number went to next (NIO's selector asserted on one).
            close(fd)
            fd = -1
            throw ClientError.io("connect errno \(error)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError.io("send errno \(errno)") }
            sent += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends a command as a multibulk array.
    func command(_ args: String...) throws -> RESPValue {
        try send(encode(args))
        return try readReply()
    }

    func encode(_ args: [String]) -> [UInt8] {
        var out = "*\(args.count)\r\n"
        for a in args { out += "$\(a.utf8.count)\r\n\(a)\r\n" }
        return Array(out.utf8)
    }

    func readReply() throws -> RESPValue {
        while true {
            if let value = try parser.next(from: &buffer) { return value }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ClientError.closed }
            buffer.writeBytes(chunk[0..<n])
        }
    }

    /// True when the server closed the connection (reads EOF) within the receive timeout.
    func readsEOF() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    enum ClientError: Error { case io(String), closed }
}

extension RESPValue {
    /// The text of a simple string, error or bulk string reply.
    var text: String? {
        switch self {
        case .simpleString(let b), .error(let b): return String(buffer: b)
        case .bulkString(let b?): return String(buffer: b)
        default: return nil
        }
    }

    var isNull: Bool {
        switch self {
        case .bulkString(nil), .null, .array(nil): return true
        default: return false
        }
    }

    var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }
}

/// Starts an in-process node on a free port in a temporary directory.
func startNode(_ configure: (inout NodeConfiguration) -> Void = { _ in }) async throws -> (NodeServer, Int, TempDir) {
    let dir = TempDir()
    var config = NodeConfiguration()
    config.port = 0
    config.threads = 2
    config.dataDirectory = dir.path + "/data"
    config.fsync = .no
    configure(&config)
    var logger = Logger(label: "kvnode-test")
    logger.logLevel = .warning
    let server = NodeServer(configuration: config, logger: logger)
    let port = try await server.start()
    return (server, port, dir)
}

extension BlockingClient {
    /// Sends a command whose arguments are raw bytes (binary-safe, e.g. causal contexts).
    func command(bytes args: [[UInt8]]) throws -> RESPValue {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.count)\r\n".utf8) + a + [13, 10] }
        try send(out)
        return try readReply()
    }
}

extension RESPValue {
    /// The raw bytes of a bulk string reply.
    var bytes: [UInt8]? {
        if case .bulkString(let b?) = self { return Array(b.readableBytesView) }
        return nil
    }

    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
