/*
 * rdkafka_bench: a load generator for one partition of one topic, built on librdkafka, so that the
 * broker is measured by a client it did not write. tools/bench/broker-bench drives it; it can also
 * be run by hand. Every mode prints one JSON object on stdout; errors go to stderr with exit 1.
 *
 *   rdkafka_bench -b HOST:PORT -t TOPIC create                 create TOPIC (1 partition), wait for a leader
 *   rdkafka_bench -b HOST:PORT -t TOPIC delete                 delete TOPIC
 *   rdkafka_bench -b HOST:PORT -t TOPIC produce -n N -s SIZE   N records of SIZE bytes, acks=1, as fast as
 *                                                              possible; timed until the last delivery report
 *   rdkafka_bench -b HOST:PORT -t TOPIC consume -n N           read N records from offset 0 of partition 0
 *   rdkafka_bench -b HOST:PORT -t TOPIC latency -r RATE -s SIZE -d SECONDS [-w WARMUP_SECONDS]
 *                                                              produce RATE records/s; a consumer in the same
 *                                                              process reads them back; end-to-end latency
 *                                                              from the CLOCK_MONOTONIC stamp in each payload
 *                                                              [-A FILE: every sample, send time and latency]
 *   -X key=value (repeatable) overrides a librdkafka property of every client the mode creates.
 *
 * Written against librdkafka 2.0's rdkafka.h and only its long-standing calls, so one source links
 * against Debian's librdkafka 2.0.2 and against the newer one bundled in confluent-kafka's wheel.
 * The consumer is librdkafka's simple (legacy) consumer: it reads a partition from an offset and
 * needs no consumer group, so no group coordinator is involved.
 */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_OVERRIDES 64

static const char *brokers = "127.0.0.1:9092";
static const char *topic = "bench";
static long long count = 1000000;
static int size = 100;
static double rate = 10000;
static double duration = 10;
static double warmup = 2;
static double timeout_s = 300;
static const char *dump_path;
static const char *overrides[MAX_OVERRIDES];
static int n_overrides;

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rdkafka_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK)
        die("%s=%s: %s", key, value, err);
}

static void apply_overrides(rd_kafka_conf_t *conf) {
    for (int i = 0; i < n_overrides; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s", overrides[i]);
        char *eq = strchr(kv, '=');
        if (!eq)
            die("-X %s: expected key=value", overrides[i]);
        *eq = 0;
        set(conf, kv, eq + 1);
    }
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (level <= 4)
        fprintf(stderr, "rdkafka_bench: librdkafka %s: %s\n", fac, buf);
}

static rd_kafka_conf_t *base_conf(void) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "client.id", "rdkafka_bench");
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char err[512];
    apply_overrides(conf);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new: %s", err);
    return rk;
}

/* Printed (and flushed) just before a timed part starts, so that whoever runs this program can
 * sample the broker's CPU time over exactly the timed part: the result line follows its end. */
static void start_marker(const char *mode) {
    printf("{\"start\":\"%s\"}\n", mode);
    fflush(stdout);
}

/* ---- create / delete ------------------------------------------------------------------------ */

static int partition_ready(rd_kafka_t *rk) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int ready = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < md->topic_cnt; i++) {
            const rd_kafka_metadata_topic_t *t = &md->topics[i];
            if (strcmp(t->topic, topic) || t->err)
                continue;
            for (int p = 0; p < t->partition_cnt; p++)
                if (t->partitions[p].id == 0 && t->partitions[p].leader >= 0 && !t->partitions[p].err)
                    ready = 1;
        }
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return ready;
}

static void admin(int create) {
    rd_kafka_conf_t *conf = base_conf();
    /* A producer handle carries the admin calls in librdkafka 2.0 (no rd_kafka_admin type). */
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    char err[512];
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, create ? RD_KAFKA_ADMIN_OP_CREATETOPICS : RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(opts, 30000, err, sizeof err);
    uint64_t t0 = now_ns();
    if (create) {
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err, sizeof err);
        if (!nt)
            die("NewTopic: %s", err);
        rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
        rd_kafka_NewTopic_destroy(nt);
    } else {
        rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
        rd_kafka_DeleteTopics(rk, &dt, 1, opts, q);
        rd_kafka_DeleteTopic_destroy(dt);
    }
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (!ev)
        die("%s: no answer in 60 s", create ? "CreateTopics" : "DeleteTopics");
    if (rd_kafka_event_error(ev))
        die("%s: %s", create ? "CreateTopics" : "DeleteTopics", rd_kafka_event_error_string(ev));
    const rd_kafka_topic_result_t **res;
    size_t n;
    if (create)
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    else
        res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && !(create && e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS))
            die("%s %s: %s (%s)", create ? "CreateTopics" : "DeleteTopics", rd_kafka_topic_result_name(res[i]),
                rd_kafka_err2str(e), rd_kafka_topic_result_error_string(res[i]) ?: "");
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    if (create) {
        uint64_t deadline = now_ns() + 30ull * 1000000000ull;
        while (!partition_ready(rk)) {
            if (now_ns() > deadline)
                die("topic %s: partition 0 has no leader after 30 s", topic);
            usleep(50000);
        }
    }
    printf("{\"mode\":\"%s\",\"topic\":\"%s\",\"seconds\":%.3f,\"librdkafka\":\"%s\"}\n", create ? "create" : "delete",
           topic, (now_ns() - t0) / 1e9, rd_kafka_version_str());
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* ---- produce -------------------------------------------------------------------------------- */

static atomic_llong delivered, failed;
static char first_error[512];

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (atomic_fetch_add(&failed, 1) == 0)
            snprintf(first_error, sizeof first_error, "%s", rd_kafka_err2str(m->err));
    } else {
        atomic_fetch_add(&delivered, 1);
    }
}

static rd_kafka_conf_t *producer_conf(void) {
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "acks", "1");
    set(conf, "compression.codec", "none");
    set(conf, "linger.ms", "10");
    set(conf, "batch.num.messages", "1000000");
    set(conf, "batch.size", "1000000");
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "2097151");
    set(conf, "message.timeout.ms", "120000");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    return conf;
}

static void produce(void) {
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, producer_conf());
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    /* One shared, incompressible-looking payload, handed over without a copy (as rdkafka_performance
     * does by default): the buffer outlives every message. */
    char *payload = malloc(size);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        payload[i] = (char)x;
    }
    /* Fetch metadata first so that connection set-up is outside the timed part. */
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    start_marker("produce");
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    uint64_t deadline = t0 + (uint64_t)(timeout_s * 1e9);
    for (long long i = 0; i < count; i++) {
        while (rd_kafka_produce(rkt, 0, 0, payload, size, NULL, 0, NULL) == -1) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1);
            if (now_ns() > deadline)
                die("produce: queue still full after %.0f s (%lld delivered)", timeout_s, (long long)delivered);
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
        if (atomic_load(&failed))
            break;
    }
    uint64_t t_enqueued = now_ns();
    while (atomic_load(&delivered) + atomic_load(&failed) < count) {
        rd_kafka_poll(rk, 50);
        if (now_ns() > deadline)
            die("produce: %lld of %lld delivered after %.0f s", (long long)delivered, count, timeout_s);
    }
    uint64_t t1 = now_ns();
    double cpu1 = cpu_seconds();
    if (atomic_load(&failed))
        die("produce: %lld deliveries failed; first error: %s", (long long)failed, first_error);
    double secs = (t1 - t0) / 1e9;
    printf("{\"mode\":\"produce\",\"topic\":\"%s\",\"records\":%lld,\"size\":%d,\"seconds\":%.4f,"
           "\"enqueue_seconds\":%.4f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.2f,\"client_cpu_s\":%.3f,"
           "\"librdkafka\":\"%s\"}\n",
           topic, count, size, secs, (t_enqueued - t0) / 1e9, count / secs, count * (double)size / secs / 1e6,
           cpu1 - cpu0, rd_kafka_version_str());
    fflush(stdout);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(payload);
}

/* ---- consume -------------------------------------------------------------------------------- */

struct consume_state {
    long long records, bytes;
    rd_kafka_resp_err_t err;
    char errstr[512];
    /* latency mode */
    uint64_t *lat, *sent_at;
    long long lat_cap, lat_n, seen;
    uint64_t measure_from_ns;
};

static void consume_cb(rd_kafka_message_t *m, void *opaque) {
    struct consume_state *st = opaque;
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return;
        if (!st->err) {
            st->err = m->err;
            snprintf(st->errstr, sizeof st->errstr, "%s: %.*s", rd_kafka_err2str(m->err), (int)m->len,
                     m->payload ? (const char *)m->payload : "");
        }
        return;
    }
    st->records++;
    st->bytes += m->len;
    if (st->lat && m->len >= 8) {
        uint64_t sent;
        memcpy(&sent, m->payload, 8);
        st->seen++;
        if (sent >= st->measure_from_ns && st->lat_n < st->lat_cap) {
            if (st->sent_at)
                st->sent_at[st->lat_n] = sent;
            st->lat[st->lat_n++] = now_ns() - sent;
        }
    }
}

static rd_kafka_t *new_consumer(void) {
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "enable.partition.eof", "false");
    set(conf, "fetch.message.max.bytes", "1048576");
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "queued.min.messages", "1000000");
    set(conf, "queued.max.messages.kbytes", "262144");
    return new_client(RD_KAFKA_CONSUMER, conf);
}

static void consume(void) {
    rd_kafka_t *rk = new_consumer();
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    struct consume_state st = {0};
    start_marker("consume");
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns(), t_first = 0;
    uint64_t deadline = t0 + (uint64_t)(timeout_s * 1e9);
    if (rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING) == -1)
        die("consume_start: %s", rd_kafka_err2str(rd_kafka_last_error()));
    while (st.records < count) {
        rd_kafka_consume_callback(rkt, 0, 100, consume_cb, &st);
        if (st.records && !t_first)
            t_first = now_ns();
        if (st.err)
            die("consume: %s (after %lld records)", st.errstr, st.records);
        if (now_ns() > deadline)
            die("consume: %lld of %lld records after %.0f s", st.records, count, timeout_s);
    }
    uint64_t t1 = now_ns();
    double cpu1 = cpu_seconds();
    rd_kafka_consume_stop(rkt, 0);
    double secs = (t1 - t0) / 1e9;
    printf("{\"mode\":\"consume\",\"topic\":\"%s\",\"records\":%lld,\"bytes\":%lld,\"seconds\":%.4f,"
           "\"first_record_seconds\":%.4f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.2f,\"client_cpu_s\":%.3f,"
           "\"librdkafka\":\"%s\"}\n",
           topic, st.records, st.bytes, secs, (t_first - t0) / 1e9, st.records / secs, st.bytes / secs / 1e6,
           cpu1 - cpu0, rd_kafka_version_str());
    fflush(stdout);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

/* ---- latency -------------------------------------------------------------------------------- */

struct lat_thread {
    rd_kafka_topic_t *rkt;
    struct consume_state st;
    atomic_int stop;
    atomic_int started;
};

static void *lat_consumer(void *arg) {
    struct lat_thread *lt = arg;
    atomic_store(&lt->started, 1);
    while (!atomic_load(&lt->stop)) {
        rd_kafka_consume_callback(lt->rkt, 0, 20, consume_cb, &lt->st);
        if (lt->st.err)
            break;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, long long n, double p) {
    if (n == 0)
        return -1;
    long long i = (long long)(p / 100.0 * (n - 1) + 0.5);
    return v[i] / 1e6;
}

static void latency(void) {
    if (size < 8)
        die("latency: size must be at least 8 (the timestamp)");
    /* The consumer starts at the partition's end before anything is produced. */
    rd_kafka_t *crk = new_consumer();
    struct lat_thread lt = {0};
    lt.rkt = rd_kafka_topic_new(crk, topic, NULL);
    long long total = (long long)(rate * (warmup + duration));
    lt.st.lat_cap = (long long)(rate * duration) + 1024;
    lt.st.lat = malloc(lt.st.lat_cap * sizeof(uint64_t));
    if (dump_path)
        lt.st.sent_at = malloc(lt.st.lat_cap * sizeof(uint64_t));
    lt.st.measure_from_ns = UINT64_MAX;
    if (rd_kafka_consume_start(lt.rkt, 0, RD_KAFKA_OFFSET_END) == -1)
        die("consume_start: %s", rd_kafka_err2str(rd_kafka_last_error()));

    rd_kafka_conf_t *pconf = producer_conf();
    set(pconf, "linger.ms", "0");
    rd_kafka_t *prk = new_client(RD_KAFKA_PRODUCER, pconf);
    rd_kafka_topic_t *prkt = rd_kafka_topic_new(prk, topic, NULL);
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(prk, 0, prkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);

    pthread_t th;
    pthread_create(&th, NULL, lat_consumer, &lt);
    char *payload = calloc(1, size);
    uint64_t t0 = now_ns();
    uint64_t measure_from = t0 + (uint64_t)(warmup * 1e9);
    /* Written before the first stamp that is >= it can be produced; the consumer thread reads it
     * only to compare, and a stale read of UINT64_MAX only drops a sample. */
    __atomic_store_n(&lt.st.measure_from_ns, measure_from, __ATOMIC_SEQ_CST);
    double interval_ns = 1e9 / rate;
    for (long long i = 0; i < total; i++) {
        uint64_t due = t0 + (uint64_t)(i * interval_ns);
        uint64_t now = now_ns();
        if (now < due) {
            rd_kafka_poll(prk, 0);
            now = now_ns();
            if (due > now + 60000) {
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(due - now - 50000)};
                nanosleep(&ts, NULL);
            }
            while (now_ns() < due)
                ;
        }
        uint64_t stamp = now_ns();
        memcpy(payload, &stamp, 8);
        while (rd_kafka_produce(prkt, 0, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL) == -1) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
            rd_kafka_poll(prk, 1);
        }
        if (atomic_load(&failed))
            die("produce: delivery failed: %s", first_error);
    }
    uint64_t t_sent = now_ns();
    rd_kafka_flush(prk, 30000);
    long long expected = (long long)(rate * duration);
    uint64_t wait_until = now_ns() + 10ull * 1000000000ull;
    while (__atomic_load_n(&lt.st.lat_n, __ATOMIC_RELAXED) < expected && now_ns() < wait_until)
        usleep(10000);
    atomic_store(&lt.stop, 1);
    pthread_join(th, NULL);
    if (lt.st.err)
        die("latency consumer: %s", lt.st.errstr);
    if (atomic_load(&failed))
        die("produce: %lld deliveries failed; first error: %s", (long long)failed, first_error);
    long long n = lt.st.lat_n;
    if (dump_path) {
        FILE *f = fopen(dump_path, "w");
        if (!f)
            die("%s: %s", dump_path, strerror(errno));
        fprintf(f, "sent_s latency_ms\n");
        for (long long i = 0; i < n; i++)
            fprintf(f, "%.6f %.3f\n", (lt.st.sent_at[i] - t0) / 1e9, lt.st.lat[i] / 1e6);
        fclose(f);
        free(lt.st.sent_at);
    }
    qsort(lt.st.lat, n, sizeof(uint64_t), cmp_u64);
    double achieved = (double)total / ((t_sent - t0) / 1e9);
    printf("{\"mode\":\"latency\",\"topic\":\"%s\",\"rate\":%.0f,\"achieved_rate\":%.0f,\"size\":%d,"
           "\"samples\":%lld,\"expected\":%lld,\"received\":%lld,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"librdkafka\":\"%s\"}\n",
           topic, rate, achieved, size, n, expected, lt.st.records, pct(lt.st.lat, n, 50), pct(lt.st.lat, n, 90),
           pct(lt.st.lat, n, 99), pct(lt.st.lat, n, 99.9), pct(lt.st.lat, n, 100), rd_kafka_version_str());
    rd_kafka_consume_stop(lt.rkt, 0);
    rd_kafka_topic_destroy(lt.rkt);
    rd_kafka_destroy(crk);
    rd_kafka_topic_destroy(prkt);
    rd_kafka_destroy(prk);
    free(payload);
    free(lt.st.lat);
    if (n < expected)
        fprintf(stderr, "rdkafka_bench: latency: %lld of %lld measured records arrived\n", n, expected);
}

static void usage(void) {
    fprintf(stderr, "usage: rdkafka_bench -b HOST:PORT -t TOPIC [-n N] [-s SIZE] [-r RATE] [-d SECONDS] "
                    "[-w WARMUP] [-T TIMEOUT] [-A FILE] [-X key=value]... create|delete|produce|consume|latency\n");
    exit(2);
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "b:t:n:s:r:d:w:T:X:A:h")) != -1) {
        switch (opt) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count = atoll(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'T': timeout_s = atof(optarg); break;
        case 'A': dump_path = optarg; break;
        case 'X':
            if (n_overrides == MAX_OVERRIDES)
                die("too many -X");
            overrides[n_overrides++] = optarg;
            break;
        default: usage();
        }
    }
    if (optind != argc - 1 || size < 1 || count < 1 || rate <= 0)
        usage();
    const char *mode = argv[optind];
    if (!strcmp(mode, "create")) admin(1);
    else if (!strcmp(mode, "delete")) admin(0);
    else if (!strcmp(mode, "produce")) produce();
    else if (!strcmp(mode, "consume")) consume();
    else if (!strcmp(mode, "latency")) latency();
    else usage();
    return 0;
}
