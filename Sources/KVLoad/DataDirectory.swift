import Foundation

/// Where an in-process store keeps its data: the directory the user named (kept afterwards), or a
/// fresh temporary one (removed by `removeIfTemporary`).
public struct DataDirectory: Sendable {
    public let path: String
    public let isTemporary: Bool

    /// `path` nil: a new name under the system's temporary directory, `<prefix>-<pid>-<random>`.
    public init(_ path: String?, temporaryPrefix prefix: String) {
        if let path {
            self.path = path
            isTemporary = false
        } else {
            self.path = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            isTemporary = true
        }
    }

    /// Deletes the directory and everything in it when it was a temporary one.
    public func removeIfTemporary() {
        if isTemporary { try? FileManager.default.removeItem(atPath: path) }
    }
}
