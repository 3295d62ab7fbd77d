// pgjdbc (Debian libpostgresql-jdbc-java) against a running ecomsql server on
// the demo data: DatabaseMetaData, a PreparedStatement executed 8 times
// (pgjdbc switches to a server-side prepared statement after 5), and
// setFetchSize(100) with autocommit off streaming 1,000,000 rows, and
// setQueryTimeout / cancel() of a running query.
// Usage: java -cp postgresql.jar:DIR JdbcCheck PORT   (run by tests/clients/run.sh)
import java.sql.*;
import java.util.*;

public class JdbcCheck {
    static int passed = 0, failed = 0;

    interface Check { void run(Connection c) throws Exception; }

    static void check(String name, String url, Check f) {
        Properties p = new Properties();
        p.setProperty("user", "analyst");
        try (Connection c = DriverManager.getConnection(url, p)) {
            f.run(c);
            System.out.println("ok   pgjdbc: " + name);
            passed++;
        } catch (Throwable e) {
            System.out.println("FAIL pgjdbc: " + name);
            e.printStackTrace(System.out);
            failed++;
        }
    }

    static void expect(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/shop";
        check("DatabaseMetaData: product, schemas, tables, columns", url, c -> {
            DatabaseMetaData md = c.getMetaData();
            expect(md.getDatabaseProductName().equals("PostgreSQL"), md.getDatabaseProductName());
            expect(md.getDatabaseProductVersion().startsWith("16.6"), md.getDatabaseProductVersion());
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = md.getSchemas()) { while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM")); }
            expect(schemas.contains("public"), "schemas " + schemas);
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "public", "%", new String[]{"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            Collections.sort(tables);
            expect(tables.equals(List.of("daily_sales", "events", "items", "orders", "reviews", "user_features", "users")),
                "tables " + tables);
            Map<String, String> columns = new LinkedHashMap<>();
            try (ResultSet rs = md.getColumns(null, "public", "orders", "%")) {
                while (rs.next()) columns.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"));
            }
            expect("int8".equals(columns.get("order_id")), "order_id " + columns);
            expect("numeric".equals(columns.get("revenue")), "revenue " + columns);
            expect("timestamptz".equals(columns.get("order_time")), "order_time " + columns);
        });
        check("PreparedStatement with setters, executed 8 times", url, c -> {
            Map<Long, Long> want = new HashMap<>();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT user_id, count(*) FROM orders WHERE user_id <= 8 GROUP BY user_id")) {
                while (rs.next()) want.put(rs.getLong(1), rs.getLong(2));
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*), sum(revenue) FROM orders WHERE user_id = ? AND quantity >= ?")) {
                for (long u = 1; u <= 8; u++) {
                    ps.setLong(1, u);
                    ps.setInt(2, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        expect(rs.getLong(1) == want.getOrDefault(u, 0L), "user " + u + ": " + rs.getLong(1));
                        java.math.BigDecimal revenue = rs.getBigDecimal(2);
                        expect(rs.getLong(1) == 0 ? revenue == null : revenue.signum() > 0, "revenue " + revenue);
                    }
                }
            }
        });
        check("setFetchSize(100), autocommit off: 1,000,000 rows streamed", url, c -> {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(100);
                long n = 0, sum = 0;
                try (ResultSet rs = st.executeQuery("SELECT value FROM generate_series(1, 1000000)")) {
                    while (rs.next()) { n++; sum += rs.getLong(1); }
                }
                expect(n == 1_000_000, "rows " + n);
                expect(sum == 500_000_500_000L, "sum " + sum);
            }
            c.commit();
        });
        String slow = "SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b";
        check("setQueryTimeout(1) and Statement.cancel() stop a running query", url, c -> {
            try (Statement st = c.createStatement()) {
                st.setQueryTimeout(1);
                long started = System.nanoTime();
                try {
                    st.executeQuery(slow);
                    throw new AssertionError("the slow query finished");
                } catch (SQLException e) {
                    expect("57014".equals(e.getSQLState()), "state " + e.getSQLState());
                }
                expect(System.nanoTime() - started < 2_500_000_000L, "timeout took too long");
            }
            try (Statement st = c.createStatement()) {
                Thread canceller = new Thread(() -> {
                    try { Thread.sleep(500); st.cancel(); } catch (Exception e) { throw new RuntimeException(e); }
                });
                canceller.start();
                try {
                    st.executeQuery(slow);
                    throw new AssertionError("the slow query finished");
                } catch (SQLException e) {
                    expect("57014".equals(e.getSQLState()), "state " + e.getSQLState());
                }
                canceller.join();
                try (ResultSet rs = st.executeQuery("SELECT 42")) {
                    expect(rs.next() && rs.getLong(1) == 42, "session after cancel");
                }
            }
        });
        System.out.println("pgjdbc: " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
