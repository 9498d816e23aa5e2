/*
 * imds.hpp: a header-only C++17 wrapper over libimds's C API (imds.h).
 *
 * It adds ownership and types, never behaviour: every call is one imds_* call.
 *
 *  - imds::Config, imds::Settings and imds::Client own their C object (move-only; the destructor
 *    frees it). A Client placed in caller storage (Client::create_in) is deinitialised instead.
 *  - Fallible calls return imds::Result<T>: the value, or an imds::Error carrying the
 *    imds_result and the message the core wrote for that failure (the object's last error,
 *    copied when the call fails), so no exception is needed: the header compiles with
 *    -fno-exceptions. Results are [[nodiscard]].
 *  - Strings the library lends are std::string_view, valid as long as the C function says (for
 *    a client's credentials, action, and body: until the next non-const call on that client).
 *    Text the library writes into caller buffers (reports, messages, diagnostics) comes back as
 *    std::string; imds::Client::fetch_metadata can fill a caller buffer instead.
 *
 * Link as for C: -l:libimds.a -lpthread -ldl -lm. The names mirror imds.h: imds_client_poll() is
 * imds::Client::poll(), imds_fetch_metadata() is imds::Client::fetch_metadata().
 *
 *     auto config = imds::Config::create();
 *     auto settings = config->load();                 // env and ~/.aws/config, as the SDKs do
 *     if (!settings) { std::cerr << settings.message() << "\n"; return 2; }
 *     auto client = imds::Client::create(*settings, seed);
 *     auto credentials = client->fetch_credentials(); // blocking
 *     if (!credentials) { std::cerr << credentials.message() << "\n"; return 1; }
 *     std::cout << credentials->access_key_id << "\n";
 */
#ifndef IMDS_HPP
#define IMDS_HPP

#include "imds.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace imds {

/* ---- Errors and results ------------------------------------------------------------------- */

/* Why a call failed: the result code and the core's message. */
class Error {
public:
    Error() = default;
    Error(imds_result code, std::string message, std::size_t needed = 0)
        : code_(code), message_(std::move(message)), needed_(needed)
    {
    }

    /* The C result code (never IMDS_RESULT_OK for a real error). */
    imds_result code() const noexcept { return code_; }
    /* The core's full sentence (what is wrong, what to do), or the code's short description when
     * the failure was not recorded on an object (a NULL or moved-from object, a getter). Never a
     * secret. */
    std::string_view message() const noexcept { return message_; }
    /* IMDS_RESULT_BUFFER_TOO_SMALL: the length the buffer needs; otherwise 0. */
    std::size_t needed() const noexcept { return needed_; }

private:
    imds_result code_ = IMDS_RESULT_OK;
    std::string message_;
    std::size_t needed_ = 0;
};

namespace detail {
[[noreturn]] inline void value_of_failed_result() noexcept
{
    /* Reading the value of a failed Result is a bug; without exceptions, stop here. */
    std::abort();
}
} // namespace detail

/* A value or an Error. Check ok() (or the bool conversion) before reading the value: reading
 * the value of a failed result aborts. */
template <typename T> class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }

    T &value() & noexcept { return checked(), *value_; }
    const T &value() const & noexcept { return checked(), *value_; }
    T &&value() && noexcept { return checked(), std::move(*value_); }
    T &operator*() & noexcept { return value(); }
    const T &operator*() const & noexcept { return value(); }
    T &&operator*() && noexcept { return std::move(*this).value(); }
    T *operator->() noexcept { return &value(); }
    const T *operator->() const noexcept { return &value(); }

    /* The error; an Error with IMDS_RESULT_OK when the call succeeded. */
    const Error &error() const noexcept { return error_; }
    imds_result code() const noexcept { return error_.code(); }
    std::string_view message() const noexcept { return error_.message(); }

private:
    void checked() const noexcept
    {
        if (!value_) {
            detail::value_of_failed_result();
        }
    }

    std::optional<T> value_;
    Error error_;
};

/* A call that returns nothing but can fail. */
template <> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const noexcept { return error_.code() == IMDS_RESULT_OK; }
    explicit operator bool() const noexcept { return ok(); }
    const Error &error() const noexcept { return error_; }
    imds_result code() const noexcept { return error_.code(); }
    std::string_view message() const noexcept { return error_.message(); }

private:
    Error error_;
};

/* The static description of a result code (imds_result_str()). */
inline std::string_view describe(imds_result code) noexcept { return imds_result_str(code); }

/* The library's version string at run time (imds_version()); IMDS_VERSION_STRING is the
 * header's. */
inline std::string_view version() noexcept { return imds_version(); }

/* CLOCK_MONOTONIC in milliseconds: the `now_ms` of every Client call, the clock the blocking
 * fetches and ffi-c/c/driver.c use (libstdc++ and libc++ read steady_clock from it on Linux). */
inline std::uint64_t monotonic_ms() noexcept
{
    auto since_boot = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_boot).count());
}

/* Seconds since the Unix epoch: the `wall_secs` of Client::start_credentials(). */
inline std::int64_t wall_secs() noexcept
{
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
}

namespace detail {

/* A string_view's bytes for the C API: never NULL, so an empty view is an empty string (which
 * the library judges) rather than a NULL parameter. */
inline const char *chars(std::string_view text) noexcept
{
    return text.data() != nullptr ? text.data() : "";
}

inline std::string_view view(imds_str text) noexcept { return {text.data, text.len}; }

inline std::string_view view(imds_bytes bytes) noexcept
{
    return {reinterpret_cast<const char *>(bytes.data), bytes.len};
}

inline Error plain(imds_result code) { return Error(code, std::string(imds_result_str(code))); }

/* The Error of a failed call on `object`, with the message the call recorded on it. A NULL
 * object, a deinitialised client and a panic return before anything is recorded, so their
 * message is the code's description instead of an older failure's. */
template <typename Object, typename LastError>
Error recorded(imds_result code, const Object *object, LastError last_error)
{
    if (object != nullptr && code != IMDS_RESULT_NULL_PARAMETER &&
        code != IMDS_RESULT_NOT_INITIALIZED && code != IMDS_RESULT_PANIC) {
        std::uint8_t text[IMDS_TEXT_CAPACITY];
        std::size_t len = 0;
        if (last_error(object, text, sizeof text, &len) == IMDS_RESULT_OK) {
            return Error(code, std::string(reinterpret_cast<const char *>(text), len));
        }
    }
    return plain(code);
}

/* Text a C function writes into a buffer of Capacity bytes (its documented upper bound). */
template <std::size_t Capacity, typename Write> Result<std::string> text(Write write)
{
    std::uint8_t buf[Capacity];
    std::size_t len = 0;
    imds_result code = write(buf, sizeof buf, &len);
    if (code != IMDS_RESULT_OK) {
        return plain(code);
    }
    return std::string(reinterpret_cast<const char *>(buf), len);
}

} // namespace detail

/* ---- Settings ----------------------------------------------------------------------------- */

/* A setting's value and where it came from (imds_settings_value()). */
struct SettingValue {
    std::string value;
    imds_source source;

    /* `default`, `profile`, `env` or `code` (imds_source_name()). */
    std::string_view source_name() const noexcept
    {
        return detail::view(imds_source_name(static_cast<std::uint32_t>(source)));
    }
};

/* Resolved settings, borrowed (from Settings or Client::settings()). */
class SettingsView {
public:
    explicit SettingsView(const imds_settings *settings) noexcept : settings_(settings) {}

    const imds_settings *get() const noexcept { return settings_; }

    /* The `imds settings` report, byte for byte (imds_settings_report()). */
    Result<std::string> report() const
    {
        return detail::text<IMDS_REPORT_CAPACITY>([&](std::uint8_t *buf, std::size_t len,
                                                      std::size_t *written) {
            return imds_settings_report(settings_, buf, len, written);
        });
    }

    /* The value of the setting `key` (its code name: `endpoint`, `timeout`, ...). */
    Result<SettingValue> value(std::string_view key) const
    {
        std::uint8_t buf[IMDS_TEXT_CAPACITY];
        std::size_t len = 0;
        imds_source source = IMDS_SOURCE_DEFAULT;
        imds_result code = imds_settings_value(settings_, detail::chars(key), key.size(), buf,
                                               sizeof buf, &len, &source);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return SettingValue{std::string(reinterpret_cast<const char *>(buf), len), source};
    }

private:
    const imds_settings *settings_;
};

/* Resolved settings, owned (from Config::resolve() or Config::load()). A client copies them, so
 * they may go once clients are made. */
class Settings {
public:
    Settings() noexcept = default;
    /* Takes ownership of `settings`. */
    explicit Settings(imds_settings *settings) noexcept : settings_(settings) {}
    Settings(Settings &&other) noexcept : settings_(std::exchange(other.settings_, nullptr)) {}
    Settings &operator=(Settings &&other) noexcept
    {
        if (this != &other) {
            imds_settings_free(settings_);
            settings_ = std::exchange(other.settings_, nullptr);
        }
        return *this;
    }
    Settings(const Settings &) = delete;
    Settings &operator=(const Settings &) = delete;
    ~Settings() { imds_settings_free(settings_); }

    const imds_settings *get() const noexcept { return settings_; }
    /* Gives up ownership: free the result with imds_settings_free(). */
    imds_settings *release() noexcept { return std::exchange(settings_, nullptr); }
    SettingsView view() const noexcept { return SettingsView(settings_); }

    Result<std::string> report() const { return view().report(); }
    Result<SettingValue> value(std::string_view key) const { return view().value(key); }

private:
    imds_settings *settings_ = nullptr;
};

/* Raw setting values with their sources, resolved into Settings (imds_config_*). */
class Config {
public:
    Config() noexcept = default;
    /* Takes ownership of `config`. */
    explicit Config(imds_config *config) noexcept : config_(config) {}
    Config(Config &&other) noexcept : config_(std::exchange(other.config_, nullptr)) {}
    Config &operator=(Config &&other) noexcept
    {
        if (this != &other) {
            imds_config_free(config_);
            config_ = std::exchange(other.config_, nullptr);
        }
        return *this;
    }
    Config(const Config &) = delete;
    Config &operator=(const Config &) = delete;
    ~Config() { imds_config_free(config_); }

    /* An empty configuration (imds_config_new()). */
    static Result<Config> create()
    {
        imds_config *config = nullptr;
        imds_result code = imds_config_new(&config);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return Config(config);
    }

    imds_config *get() const noexcept { return config_; }

    /* Sets `key` to `value` as coming from `source` (imds_config_set()): the code name, or for
     * IMDS_SOURCE_ENV the variable, for IMDS_SOURCE_PROFILE the config-file key. */
    Result<void> set(imds_source source, std::string_view key, std::string_view value)
    {
        return checked(imds_config_set(config_, static_cast<std::uint32_t>(source),
                                       detail::chars(key), key.size(), detail::chars(value),
                                       value.size()));
    }

    /* Sets a value from the program itself (IMDS_SOURCE_CODE), which beats every other source. */
    Result<void> set(std::string_view key, std::string_view value)
    {
        return set(IMDS_SOURCE_CODE, key, value);
    }

    /* Only the values set here (imds_config_resolve()): nothing is read from the process. */
    Result<Settings> resolve()
    {
        imds_settings *settings = nullptr;
        imds_result code = imds_config_resolve(config_, &settings);
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return Settings(settings);
    }

    /* The environment and the shared config file as the AWS SDKs read them, then the values
     * set here with IMDS_SOURCE_CODE (imds_config_load()). */
    Result<Settings> load()
    {
        imds_settings *settings = nullptr;
        imds_result code = imds_config_load(config_, &settings);
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return Settings(settings);
    }

private:
    Error failure(imds_result code) const
    {
        return detail::recorded(code, config_, imds_config_last_error);
    }

    Result<void> checked(imds_result code) const
    {
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return {};
    }

    imds_config *config_ = nullptr;
};

/* ---- The client --------------------------------------------------------------------------- */

/* Temporary AWS credentials: views into the client, valid until its next non-const call. The
 * secret access key and the session token are secrets: never log them. */
struct Credentials {
    std::string_view access_key_id;
    std::string_view secret_access_key;
    std::string_view session_token;
    /* Seconds since the Unix epoch (UTC). */
    std::int64_t expiration;
    /* Empty when IMDS did not send one. */
    std::string_view account_id;

    static Credentials from(const imds_credentials &c) noexcept
    {
        return {detail::view(c.access_key_id), detail::view(c.secret_access_key),
                detail::view(c.session_token), c.expiration, detail::view(c.account_id)};
    }
};

/* What the host must do next (imds_action): views into the client, valid until its next
 * non-const call. See imds_action_kind for what each kind asks. */
struct Action {
    imds_action_kind kind;
    /* CONNECT: the host name or IP literal (no brackets) and port; `tls` for https. */
    std::string_view host;
    std::uint16_t port;
    bool tls;
    /* SEND: the bytes to write. */
    std::string_view data;
    /* CONNECT, SEND, RECEIVE: give up at this instant; WAIT: poll again then (monotonic ms). */
    std::uint64_t deadline_ms;

    static Action from(const imds_action &a) noexcept
    {
        return {a.kind, detail::view(a.host), a.port, a.tls, detail::view(a.data), a.deadline_ms};
    }
};

/* One queued diagnostic (a request, a status, a fallback; never a secret). */
struct Diagnostic {
    imds_level level;
    std::string text;
};

/* The sans-IO IMDS client (imds_client_*), owned. Move-only; use it from one thread at a time.
 *
 * Drive it from an event loop (start_credentials() or start_get(), then poll() and the
 * handle_*() calls, as imds.h describes), or block with fetch_credentials() and
 * fetch_metadata(). Failures of the calls that start, drive, feed or cancel an operation carry
 * the core's message; getters carry the code's description. */
class Client {
public:
    Client() noexcept = default;
    /* Takes ownership of `client` (from imds_client_new() or imds_client_init()). */
    explicit Client(imds_client *client) noexcept : client_(client) {}
    Client(Client &&other) noexcept : client_(std::exchange(other.client_, nullptr)) {}
    Client &operator=(Client &&other) noexcept
    {
        if (this != &other) {
            imds_client_free(client_);
            client_ = std::exchange(other.client_, nullptr);
        }
        return *this;
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    /* Frees a heap client; deinitialises one in caller storage (imds_client_free()). */
    ~Client() { imds_client_free(client_); }

    /* A client on the heap for a copy of `settings` (imds_client_new()); `seed` is randomness
     * for retry jitter. */
    static Result<Client> create(SettingsView settings, std::uint64_t seed)
    {
        imds_client *client = nullptr;
        imds_result code = imds_client_new(settings.get(), seed, &client);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return Client(client);
    }
    static Result<Client> create(const Settings &settings, std::uint64_t seed)
    {
        return create(settings.view(), seed);
    }

    /* A client in caller storage (imds_client_init()): `storage_len >= storage_size()` bytes
     * aligned to storage_align(), outliving the Client. No call allocates afterwards. */
    static Result<Client> create_in(void *storage, std::size_t storage_len,
                                    SettingsView settings, std::uint64_t seed)
    {
        imds_client *client = nullptr;
        imds_result code = imds_client_init(storage, storage_len, settings.get(), seed, &client);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return Client(client);
    }
    static Result<Client> create_in(void *storage, std::size_t storage_len,
                                    const Settings &settings, std::uint64_t seed)
    {
        return create_in(storage, storage_len, settings.view(), seed);
    }
    static std::size_t storage_size() noexcept { return imds_client_size(); }
    static std::size_t storage_align() noexcept { return imds_client_align(); }

    imds_client *get() const noexcept { return client_; }
    /* Gives up ownership: end the result with imds_client_free(). */
    imds_client *release() noexcept { return std::exchange(client_, nullptr); }

    /* The settings the client uses, valid as long as the client. */
    Result<SettingsView> settings() const
    {
        const imds_settings *settings = nullptr;
        imds_result code = imds_client_settings(client_, &settings);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return SettingsView(settings);
    }

    /* ---- Driving an operation (sans-IO) ---- */

    Result<void> start_credentials(std::uint64_t now_ms, std::int64_t wall_secs)
    {
        return checked(imds_client_start_credentials(client_, now_ms, wall_secs));
    }

    /* `path` relative to /latest/meta-data/ (`placement/region`) or absolute (`/latest/...`). */
    Result<void> start_get(std::uint64_t now_ms, std::string_view path)
    {
        return checked(imds_client_start_get(client_, now_ms, detail::chars(path), path.size()));
    }

    /* What to do next. A failure ends the operation (close the connection if one is open). */
    Result<Action> poll(std::uint64_t now_ms)
    {
        imds_action action;
        imds_result code = imds_client_poll(client_, now_ms, &action);
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return Action::from(action);
    }

    Result<void> handle_connected(std::uint64_t now_ms)
    {
        return checked(imds_client_handle_connected(client_, now_ms));
    }
    /* For a CONNECT, hands over an open keep-alive connection to the same host, port and scheme
     * kept from an earlier exchange (a pool shared by clients); a request that fails on it
     * before any byte comes back is sent again, once, on a new connection. */
    Result<void> handle_connected_reused(std::uint64_t now_ms)
    {
        return checked(imds_client_handle_connected_reused(client_, now_ms));
    }
    Result<void> handle_data(std::uint64_t now_ms, const void *data, std::size_t len)
    {
        return checked(imds_client_handle_data(
            client_, now_ms, static_cast<const std::uint8_t *>(data != nullptr ? data : ""), len));
    }
    Result<void> handle_data(std::uint64_t now_ms, std::string_view data)
    {
        return handle_data(now_ms, data.data(), data.size());
    }
    Result<void> handle_eof(std::uint64_t now_ms)
    {
        return checked(imds_client_handle_eof(client_, now_ms));
    }
    Result<void> handle_io_error(std::uint64_t now_ms, imds_io_error error)
    {
        return checked(
            imds_client_handle_io_error(client_, now_ms, static_cast<std::uint32_t>(error)));
    }
    Result<void> handle_timeout(std::uint64_t now_ms)
    {
        return checked(imds_client_handle_timeout(client_, now_ms));
    }
    /* The connection is gone without the client asking (the host closed it, or saw the server
     * close it between operations or during a WAIT): the next request connects anew. */
    Result<void> handle_closed() { return checked(imds_client_handle_closed(client_)); }
    /* Ends the operation with IMDS_RESULT_UNSUPPORTED (e.g. `tls` without a TLS library); the
     * returned Result is that failure. */
    Result<void> handle_unsupported() { return checked(imds_client_handle_unsupported(client_)); }
    /* Abandons the running operation, keeping the caches; close the connection too. */
    Result<void> cancel() { return checked(imds_client_cancel(client_)); }
    /* Forgets everything learned from IMDS (token, role, credentials, ...) and abandons the
     * running operation; settings, binding name and seed stay. Close the connection too. */
    Result<void> reset() { return checked(imds_client_reset(client_)); }

    /* Names the program in `User-Agent: imds/<version> (<name>)`; a new client says `c`. */
    Result<void> set_binding(std::string_view name)
    {
        return checked(imds_client_set_binding(client_, detail::chars(name), name.size()));
    }

    /* ---- What an operation left ---- */

    Result<Credentials> credentials() const
    {
        imds_credentials credentials;
        imds_result code = imds_client_credentials(client_, &credentials);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return Credentials::from(credentials);
    }

    /* The credential_process JSON (holds secrets). */
    Result<std::string> credentials_json() const
    {
        return detail::text<IMDS_CREDENTIALS_JSON_CAPACITY>(
            [&](std::uint8_t *buf, std::size_t len, std::size_t *written) {
                return imds_client_credentials_json(client_, buf, len, written);
            });
    }

    /* The body of the last successful metadata read, valid until the next non-const call. */
    Result<std::string_view> body() const
    {
        imds_bytes body;
        imds_result code = imds_client_body(client_, &body);
        if (code != IMDS_RESULT_OK) {
            return detail::plain(code);
        }
        return detail::view(body);
    }

    /* The oldest queued diagnostic; IMDS_RESULT_NOT_AVAILABLE when none is left. */
    Result<Diagnostic> next_diagnostic()
    {
        imds_level level = IMDS_LEVEL_TRACE;
        auto text = detail::text<IMDS_TEXT_CAPACITY>(
            [&](std::uint8_t *buf, std::size_t len, std::size_t *written) {
                return imds_client_next_diagnostic(client_, buf, len, written, &level);
            });
        if (!text) {
            return text.error();
        }
        return Diagnostic{level, std::move(*text)};
    }

    /* The next diagnostic as the line `imds --trace` prints: `imds: <level>: <text>\n`. */
    Result<std::string> next_trace_line()
    {
        return detail::text<IMDS_TEXT_CAPACITY>(
            [&](std::uint8_t *buf, std::size_t len, std::size_t *written) {
                return imds_client_next_trace_line(client_, buf, len, written);
            });
    }

    /* The message of the client's most recent failure. */
    Result<std::string> last_error() const
    {
        return detail::text<IMDS_TEXT_CAPACITY>(
            [&](std::uint8_t *buf, std::size_t len, std::size_t *written) {
                return imds_client_last_error(client_, buf, len, written);
            });
    }

    /* The most recent failure as the line the `imds` command prints: `imds: <message>\n`. */
    Result<std::string> last_error_line() const
    {
        return detail::text<IMDS_TEXT_CAPACITY>(
            [&](std::uint8_t *buf, std::size_t len, std::size_t *written) {
                return imds_client_last_error_line(client_, buf, len, written);
            });
    }

    /* ---- Blocking ---- */

    /* Fetches credentials over blocking sockets (imds_fetch_credentials()); fresh cached ones
     * without a request. */
    Result<Credentials> fetch_credentials()
    {
        imds_credentials credentials;
        imds_result code = imds_fetch_credentials(client_, &credentials);
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return Credentials::from(credentials);
    }

    /* Reads a metadata path over blocking sockets into `buf` (imds_fetch_metadata()) and returns
     * a view of it. A body longer than `len` is IMDS_RESULT_BUFFER_TOO_SMALL with the length it
     * needs in error().needed(), and stays readable with body() until the next non-const call. */
    Result<std::string_view> fetch_metadata(std::string_view path, void *buf, std::size_t len)
    {
        std::size_t body_len = 0;
        imds_result code = imds_fetch_metadata(client_, detail::chars(path), path.size(),
                                               static_cast<std::uint8_t *>(buf), len, &body_len);
        if (code == IMDS_RESULT_BUFFER_TOO_SMALL) {
            Error error = failure(code);
            return Error(code, std::string(error.message()), body_len);
        }
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return std::string_view(static_cast<const char *>(buf), body_len);
    }
    template <std::size_t N>
    Result<std::string_view> fetch_metadata(std::string_view path, char (&buf)[N])
    {
        return fetch_metadata(path, buf, N);
    }

    /* Reads a metadata path over blocking sockets into a new string (one request, whatever the
     * body's length). */
    Result<std::string> fetch_metadata(std::string_view path)
    {
        char small[256];
        auto read = fetch_metadata(path, small);
        if (read) {
            return std::string(*read);
        }
        if (read.code() != IMDS_RESULT_BUFFER_TOO_SMALL) {
            return read.error();
        }
        auto body = this->body();
        if (!body) {
            return body.error();
        }
        return std::string(*body);
    }

private:
    Error failure(imds_result code) const
    {
        return detail::recorded(code, client_, imds_client_last_error);
    }

    Result<void> checked(imds_result code) const
    {
        if (code != IMDS_RESULT_OK) {
            return failure(code);
        }
        return {};
    }

    imds_client *client_ = nullptr;
};

} // namespace imds

#endif /* IMDS_HPP */
