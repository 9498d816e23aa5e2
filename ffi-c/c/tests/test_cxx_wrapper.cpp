/*
 * test_cxx_wrapper.cpp: include/imds.hpp, the C++17 wrapper, compiled with -fno-exceptions
 * against the installed headers: ownership (move-only, moved-from objects, caller storage),
 * Result and Error (the core's message, the needed length of IMDS_RESULT_BUFFER_TOO_SMALL),
 * configuration and settings, a sans-IO credentials exchange through poll() and the handle_*()
 * calls without sockets, the binding name, a pooled connection and reset, and the blocking
 * fetches over loopback against imds-mock.
 *
 *   test_cxx_wrapper PATH/TO/imds-mock
 *
 * Ends with the line `N passed, N failed`.
 */
#include <imds.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

/* The C harness uses C casts; imds.hpp is held to -Wold-style-cast. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "harness.h"
#pragma GCC diagnostic pop

/* Defined in cxx_second_unit.cpp, which includes imds.hpp too (the header links twice). */
std::string_view version_from_second_unit();

namespace {

static_assert(!std::is_copy_constructible_v<imds::Client>, "a client has one owner");
static_assert(!std::is_copy_assignable_v<imds::Client>, "a client has one owner");
static_assert(std::is_nothrow_move_constructible_v<imds::Client>, "clients move");
static_assert(std::is_nothrow_move_assignable_v<imds::Client>, "clients move");
static_assert(!std::is_copy_constructible_v<imds::Config>, "a config has one owner");
static_assert(std::is_nothrow_move_constructible_v<imds::Config>, "configs move");
static_assert(!std::is_copy_constructible_v<imds::Settings>, "settings have one owner");
static_assert(std::is_nothrow_move_constructible_v<imds::Settings>, "settings move");
static_assert(sizeof(imds::Client) == sizeof(imds_client *), "a client is one pointer");

const char *mock_path;

bool contains(std::string_view text, std::string_view needle)
{
    return text.find(needle) != std::string_view::npos;
}

/* Settings with only the endpoint http://127.0.0.1:port. */
imds::Settings settings_for_port(unsigned port)
{
    auto config = imds::Config::create();
    CHECK(config.ok(), "config");
    auto set = config->set("endpoint", "http://127.0.0.1:" + std::to_string(port));
    CHECK(set.ok(), "set endpoint: %s", std::string(set.message()).c_str());
    auto settings = config->resolve();
    CHECK(settings.ok(), "resolve");
    return std::move(settings).value();
}

void test_version_and_results()
{
    CHECK(imds::version() == IMDS_VERSION_STRING, "version");
    CHECK(version_from_second_unit() == imds::version(), "the header in a second unit");
    CHECK(imds::describe(IMDS_RESULT_OK) == "success", "describe");
    imds::Result<int> good = 7;
    CHECK(good.ok() && *good == 7 && good.code() == IMDS_RESULT_OK && good.message().empty(),
          "a value");
    imds::Result<int> bad = imds::Error(IMDS_RESULT_TIMEOUT, "slow", 0);
    CHECK(!bad && bad.code() == IMDS_RESULT_TIMEOUT && bad.message() == "slow", "an error");
    imds::Result<void> done;
    CHECK(done.ok(), "void success");
    CHECK(imds::monotonic_ms() > 0 && imds::wall_secs() > 1700000000, "clocks");
}

void test_config_and_settings()
{
    auto config = imds::Config::create();
    CHECK(config.ok(), "create");
    auto unknown = config->set("no_such_key", "1");
    CHECK(unknown.code() == IMDS_RESULT_INVALID_ARGUMENT &&
              contains(unknown.message(), "unknown setting key"),
          "unknown key: %s", std::string(unknown.message()).c_str());
    CHECK(config->set(IMDS_SOURCE_ENV, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2").ok(), "env");
    CHECK(config->set("timeout", "abc").ok(), "invalid values are judged when resolving");
    auto invalid = config->resolve();
    CHECK(!invalid && invalid.code() == IMDS_RESULT_INVALID_SETTING &&
              contains(invalid.message(), "timeout") && contains(invalid.message(), "`abc`"),
          "the core's message: %s", std::string(invalid.message()).c_str());
    CHECK(config->set("timeout", "0.5").ok(), "valid timeout");
    auto settings = config->resolve();
    CHECK(settings.ok(), "resolve");
    auto timeout = settings->value("timeout");
    CHECK(timeout.ok() && timeout->value == "0.5" && timeout->source == IMDS_SOURCE_CODE &&
              timeout->source_name() == "code",
          "timeout value");
    auto attempts = settings->value("attempts");
    CHECK(attempts.ok() && attempts->value == "2" && attempts->source_name() == "env",
          "attempts from env");
    auto bogus = settings->value("bogus");
    CHECK(bogus.code() == IMDS_RESULT_INVALID_ARGUMENT, "unknown key");
    auto report = settings->report();
    CHECK(report.ok() && contains(*report, "timeout = 0.5 (code timeout)\n") &&
              contains(*report, "attempts = 2 (env AWS_METADATA_SERVICE_NUM_ATTEMPTS)\n"),
          "report");

    /* Moving hands the object over; a moved-from object is empty and safe to use. */
    imds::Config moved = std::move(*config);
    CHECK(config->get() == nullptr && moved.get() != nullptr, "moved");
    auto from_empty = config->resolve();
    CHECK(from_empty.code() == IMDS_RESULT_NULL_PARAMETER &&
              from_empty.message() == imds::describe(IMDS_RESULT_NULL_PARAMETER),
          "a moved-from config");
    imds::Settings taken = std::move(*settings);
    CHECK(settings->get() == nullptr && taken.report().ok(), "settings moved");
}

/* Feeds one exchange: poll says SEND with `request` at the start, then RECEIVE; `response`
 * comes back. */
void exchange(imds::Client &client, std::uint64_t now, std::string_view request,
              std::string_view response)
{
    auto send = client.poll(now);
    CHECK(send.ok() && send->kind == IMDS_ACTION_KIND_SEND &&
              send->data.substr(0, request.size()) == request,
          "send %s", std::string(request).c_str());
    auto receive = client.poll(now);
    CHECK(receive.ok() && receive->kind == IMDS_ACTION_KIND_RECEIVE && receive->deadline_ms > now,
          "receive");
    CHECK(client.handle_data(now, response).ok(), "data");
}

/* A credentials exchange through the sans-IO calls, no socket. */
void test_sans_io()
{
    auto settings = settings_for_port(1338);
    auto client = imds::Client::create(settings, 5);
    CHECK(client.ok(), "create");
    auto early = client->poll(1);
    CHECK(early.code() == IMDS_RESULT_INVALID_STATE && contains(early.message(), "start_"),
          "poll before start says what to do: %s", std::string(early.message()).c_str());
    CHECK(client->credentials().code() == IMDS_RESULT_NOT_AVAILABLE, "no credentials yet");
    CHECK(client->body().code() == IMDS_RESULT_NOT_AVAILABLE, "no body yet");

    CHECK(client->start_credentials(100, 1700000000).ok(), "start");
    CHECK(client->start_credentials(100, 1700000000).code() == IMDS_RESULT_INVALID_STATE,
          "start twice");
    auto connect = client->poll(100);
    CHECK(connect.ok() && connect->kind == IMDS_ACTION_KIND_CONNECT &&
              connect->host == "127.0.0.1" && connect->port == 1338 && !connect->tls,
          "connect");
    CHECK(client->handle_connected(101).ok(), "connected");
    exchange(*client, 102, "PUT /latest/api/token HTTP/1.1\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
             "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\nabcde");
    exchange(*client, 103, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nrole");
    std::string document = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIACXX\","
                           "\"SecretAccessKey\":\"s3cr3t\",\"Token\":\"t0k3n\","
                           "\"Expiration\":\"2030-01-01T00:00:00Z\"}";
    exchange(*client, 104, "GET /latest/meta-data/iam/security-credentials/role HTTP/1.1\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(document.size()) +
                 "\r\n\r\n" + document);
    auto done = client->poll(105);
    CHECK(done.ok() && done->kind == IMDS_ACTION_KIND_DONE, "done");
    auto credentials = client->credentials();
    CHECK(credentials.ok() && credentials->access_key_id == "ASIACXX" &&
              credentials->secret_access_key == "s3cr3t" && credentials->session_token == "t0k3n" &&
              credentials->expiration == 1893456000 && credentials->account_id.empty(),
          "credentials");
    auto json = client->credentials_json();
    CHECK(json.ok() && contains(*json, "\"AccessKeyId\":\"ASIACXX\""), "json");
    auto first = client->next_diagnostic();
    CHECK(first.ok() && first->level == IMDS_LEVEL_TRACE && first->text == "> PUT /latest/api/token",
          "first diagnostic");
    auto line = client->next_trace_line();
    CHECK(line.ok() && *line == "imds: trace: < 200\n", "trace line");
    int more = 0;
    for (auto next = client->next_diagnostic(); next; next = client->next_diagnostic()) {
        CHECK(!contains(next->text, "s3cr3t") && !contains(next->text, "t0k3n"), "no secret");
        more++;
    }
    CHECK(more == 4, "four more diagnostics, got %d", more);
    CHECK(client->next_diagnostic().code() == IMDS_RESULT_NOT_AVAILABLE, "queue empty");

    /* A read on the kept connection, a time that went back, a failure and its message. */
    CHECK(client->start_get(200, "placement/region").ok(), "start_get");
    exchange(*client, 201, "GET /latest/meta-data/placement/region HTTP/1.1\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nus-west-2");
    CHECK(client->poll(202).ok(), "get done");
    auto body = client->body();
    CHECK(body.ok() && *body == "us-west-2", "body");
    CHECK(client->start_get(300, "instance-id").ok(), "start_get");
    auto back = client->poll(299);
    CHECK(back.code() == IMDS_RESULT_INVALID_STATE && !back.message().empty(),
          "time went back: %s", std::string(back.message()).c_str());
    CHECK(client->cancel().ok(), "cancel");
    CHECK(client->start_get(400, "a b").code() == IMDS_RESULT_INVALID_ARGUMENT, "bad path");
    CHECK(client->start_get(400, std::string_view()).code() == IMDS_RESULT_INVALID_ARGUMENT,
          "an empty view is an empty path, not NULL");
    auto last = client->last_error();
    CHECK(last.ok() && !last->empty(), "last error");
    CHECK(client->start_credentials(500, 1700000000).ok(), "cached");
    auto cached = client->poll(500);
    CHECK(cached.ok() && cached->kind == IMDS_ACTION_KIND_DONE, "fresh cached credentials");

    /* https: a host without TLS says so with the core's message. */
    auto config = imds::Config::create();
    CHECK(config->set("endpoint", "https://127.0.0.1:1").ok(), "https endpoint");
    auto https = imds::Client::create(config->resolve().value(), 6);
    CHECK(https->start_credentials(1, 1700000000).ok(), "start");
    auto tls = https->poll(1);
    CHECK(tls.ok() && tls->tls, "tls connect");
    auto unsupported = https->handle_unsupported();
    CHECK(unsupported.code() == IMDS_RESULT_UNSUPPORTED && contains(unsupported.message(), "http://"),
          "unsupported: %s", std::string(unsupported.message()).c_str());

    /* Ownership: a moved-from client is empty; the new owner frees it once (ASan checks). */
    imds::Client owner = std::move(*client);
    CHECK(client->get() == nullptr && owner.get() != nullptr, "moved");
    auto empty = client->fetch_credentials();
    CHECK(empty.code() == IMDS_RESULT_NULL_PARAMETER &&
              empty.message() == imds::describe(IMDS_RESULT_NULL_PARAMETER),
          "a moved-from client");
    imds_client *https_client = https->get();
    owner = std::move(*https);
    CHECK(https->get() == nullptr && owner.get() == https_client,
          "move assignment frees the old client and takes the new one");
}

/* The calls every binding shares, as test_api.c makes them: the binding name in User-Agent, a
 * pooled connection handed over for a connect (and the request sent again on a new connection
 * when the server had closed it), reset; and the stderr line of the last error. */
void test_shared_operations()
{
    auto settings = settings_for_port(1338);
    auto client = imds::Client::create(settings, 8);
    CHECK(client.ok(), "create");
    CHECK(client->set_binding("my-agent/1.2").ok(), "binding");
    CHECK(client->set_binding("\xff").code() == IMDS_RESULT_INVALID_ARGUMENT, "binding not UTF-8");
    auto idle = client->handle_connected_reused(1);
    CHECK(idle.code() == IMDS_RESULT_INVALID_STATE && !idle.message().empty(),
          "a pooled connection with no connect pending");
    auto message = client->last_error();
    auto line = client->last_error_line();
    CHECK(message.ok() && line.ok() && *line == "imds: " + *message + "\n",
          "the last error as the imds command's line: %s", line.ok() ? line->c_str() : "");

    CHECK(client->start_get(10, "instance-id").ok(), "get");
    auto connect = client->poll(10);
    CHECK(connect.ok() && connect->kind == IMDS_ACTION_KIND_CONNECT, "connect");
    CHECK(client->handle_connected_reused(10).ok(), "pooled");
    auto send = client->poll(10);
    CHECK(send.ok() && send->kind == IMDS_ACTION_KIND_SEND &&
              contains(send->data, "\r\nUser-Agent: " IMDS_VERSION_STRING " (my-agent/1.2)\r\n"),
          "User-Agent names the binding");
    auto receive = client->poll(10);
    CHECK(receive.ok() && receive->kind == IMDS_ACTION_KIND_RECEIVE, "receive");
    CHECK(client->handle_eof(11).ok(), "the pooled connection was closed");
    auto closing = client->poll(11);
    CHECK(closing.ok() && closing->kind == IMDS_ACTION_KIND_CLOSE, "close it");
    auto again = client->poll(11);
    CHECK(again.ok() && again->kind == IMDS_ACTION_KIND_CONNECT, "and connect anew");
    CHECK(client->handle_connected(11).ok(), "connected");
    exchange(*client, 12, "PUT /latest/api/token HTTP/1.1\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde");
    exchange(*client, 13, "GET /latest/meta-data/instance-id HTTP/1.1\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ni-1");
    auto done = client->poll(14);
    CHECK(done.ok() && done->kind == IMDS_ACTION_KIND_DONE, "done");
    auto body = client->body();
    CHECK(body.ok() && *body == "i-1", "body");

    /* Reset: the body, the token and the connection are forgotten. */
    CHECK(client->reset().ok(), "reset");
    CHECK(client->body().code() == IMDS_RESULT_NOT_AVAILABLE, "no body after reset");
    CHECK(client->start_get(20, "instance-id").ok(), "get");
    auto fresh = client->poll(20);
    CHECK(fresh.ok() && fresh->kind == IMDS_ACTION_KIND_CONNECT, "connect after reset");
    CHECK(client->handle_connected(20).ok(), "connected");
    auto token = client->poll(20);
    CHECK(token.ok() && token->kind == IMDS_ACTION_KIND_SEND &&
              contains(token->data, "PUT /latest/api/token"),
          "a new token after reset");

    imds::Client moved = std::move(*client);
    CHECK(client->reset().code() == IMDS_RESULT_NULL_PARAMETER &&
              client->set_binding("x").code() == IMDS_RESULT_NULL_PARAMETER,
          "a moved-from client");
}

void test_against_mock()
{
    mock m;
    if (mock_start(mock_path, nullptr, &m) != 0) {
        CHECK(0, "could not start %s", mock_path);
        return;
    }
    auto settings = settings_for_port(m.port);
    {
        auto client = imds::Client::create(settings, 11);
        CHECK(client.ok(), "create");
        auto credentials = client->fetch_credentials();
        CHECK(credentials.ok() && credentials->access_key_id == "ASIAMOCKEXAMPLE00001" &&
                  credentials->expiration == 1893456000,
              "fetch_credentials: %s", std::string(credentials.message()).c_str());
        auto region = client->fetch_metadata("placement/region");
        CHECK(region.ok() && *region == "us-east-1", "fetch_metadata into a string");

        char buf[IMDS_METADATA_CAPACITY];
        auto id = client->fetch_metadata("instance-id", buf);
        CHECK(id.ok() && *id == "i-0123456789abcdef0" && id->data() == buf,
              "fetch_metadata into a buffer, viewed");
        char small[4];
        auto short_buffer = client->fetch_metadata("instance-id", small);
        CHECK(short_buffer.code() == IMDS_RESULT_BUFFER_TOO_SMALL &&
                  short_buffer.error().needed() == std::string_view("i-0123456789abcdef0").size() &&
                  !short_buffer.message().empty(),
              "buffer too small, with the length needed");
        auto kept = client->body();
        CHECK(kept.ok() && *kept == "i-0123456789abcdef0", "the body stays on the client");

        auto missing = client->fetch_metadata("no/such/path");
        CHECK(missing.code() == IMDS_RESULT_HTTP_STATUS && contains(missing.message(), "404"),
              "404 with the core's message: %s", std::string(missing.message()).c_str());
        bool traced_get = false;
        for (auto next = client->next_diagnostic(); next; next = client->next_diagnostic()) {
            traced_get |= contains(next->text, "> GET /latest/meta-data/no/such/path");
        }
        CHECK(traced_get, "the request was traced");
    }

    /* In caller storage: the destructor deinitialises, so the storage can hold the next one. */
    alignas(std::max_align_t) static unsigned char storage[64 * 1024];
    CHECK(imds::Client::storage_size() <= sizeof storage &&
              imds::Client::storage_align() <= alignof(std::max_align_t),
          "storage fits");
    for (int round = 0; round < 2; round++) {
        auto placed = imds::Client::create_in(storage, sizeof storage, settings, 12);
        CHECK(placed.ok() && static_cast<void *>(placed->get()) == storage, "placed");
        auto credentials = placed->fetch_credentials();
        CHECK(credentials.ok(), "fetch in caller storage, round %d", round);
        auto view = placed->settings();
        auto endpoint = view.ok() ? view->value("endpoint") : imds::Result<imds::SettingValue>(
                                                                   view.error());
        CHECK(endpoint.ok() && contains(endpoint->value, "127.0.0.1"), "the client's settings");
    }
    auto too_small = imds::Client::create_in(storage, 1, settings, 13);
    CHECK(too_small.code() == IMDS_RESULT_INSUFFICIENT_SIZE, "storage too small");
    mock_stop(&m);

    /* Nothing listens: the core's message. */
    auto refused = imds::Client::create(settings_for_port(closed_port()), 14);
    auto failed = refused->fetch_credentials();
    CHECK(failed.code() == IMDS_RESULT_CONNECT_FAILED && contains(failed.message(), "could not connect"),
          "connect failed: %s", std::string(failed.message()).c_str());
    auto read = refused->fetch_metadata("instance-id");
    CHECK(read.code() == IMDS_RESULT_CONNECT_FAILED && contains(read.message(), "could not connect"),
          "read failed: %s", std::string(read.message()).c_str());
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_cxx_wrapper PATH/TO/imds-mock\n");
        return 2;
    }
    mock_path = argv[1];
    test_version_and_results();
    test_config_and_settings();
    test_sans_io();
    test_shared_operations();
    test_against_mock();
    return test_summary();
}
