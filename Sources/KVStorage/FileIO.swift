#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the engine makes, behind a protocol so tests can inject failures.
/// Every method throws `StorageError.io` carrying the operation, errno and path.
protocol FileIO: Sendable {
    func open(_ path: String, flags: Int32) throws(StorageError) -> Int32
    func close(_ fd: Int32)
    /// Writes all bytes (retrying short writes and EINTR).
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError)
    func fdatasync(_ fd: Int32, path: String) throws(StorageError)
    func truncate(_ fd: Int32, length: Int, path: String) throws(StorageError)
    /// Reads the whole file.
    func readAll(_ path: String) throws(StorageError) -> [UInt8]
    func rename(_ from: String, _ to: String) throws(StorageError)
    func unlink(_ path: String) throws(StorageError)
    /// fsyncs a directory so creates, renames and unlinks in it are durable.
    func syncDirectory(_ path: String) throws(StorageError)
}

/// The real system calls.
struct PosixFileIO: FileIO {
    func open(_ path: String, flags: Int32) throws(StorageError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        if fd < 0 { throw .io("open", errno, path) }
        return fd
    }

    func close(_ fd: Int32) { _ = Glibc.close(fd) }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("write", errno, path)
            }
            done += n
        }
    }

    func fdatasync(_ fd: Int32, path: String) throws(StorageError) {
        while Glibc.fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw .io("fdatasync", errno, path)
        }
    }

    func truncate(_ fd: Int32, length: Int, path: String) throws(StorageError) {
        if ftruncate(fd, off_t(length)) != 0 { throw .io("ftruncate", errno, path) }
    }

    func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .io("fstat", errno, path) }
        let size = Int(st.st_size)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
            var done = 0
            while done < size {
                let n = Glibc.read(fd, buf.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                done += n
            }
            initialized = done
        }
        if failure != 0 { throw .io("read", failure, path) }
        return bytes
    }

    func rename(_ from: String, _ to: String) throws(StorageError) {
        if Glibc.rename(from, to) != 0 { throw .io("rename", errno, from) }
    }

    func unlink(_ path: String) throws(StorageError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw .io("unlink", errno, path) }
    }

    func syncDirectory(_ path: String) throws(StorageError) {
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        if Glibc.fsync(fd) != 0 { throw .io("fsync", errno, path) }
    }
}

/// Directory helpers (listing and creating), outside the injectable surface.
enum DataDirectory {
    static func create(_ path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .io("mkdir", errno, path) }
    }

    static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .io("opendir", errno, path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `00000042.log`-style name for a segment id and extension.
    static func fileName(_ id: UInt32, _ ext: String) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + "." + ext
    }

    /// Parses `NNNNNNNN.ext` (8 to 10 decimal digits, a UInt32); nil for other names.
    static func parse(_ name: String, ext: String) -> UInt32? {
        let suffix = "." + ext
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count >= 8, stem.count <= 10, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt32(stem)
    }

    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }
}
