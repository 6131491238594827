-- Invoices and their lines; a view that keeps per-invoice totals current.
CREATE TABLE invoices (
    id        bigint PRIMARY KEY,
    vendor    text NOT NULL,
    issued    date NOT NULL,
    total     numeric(12,2) NOT NULL
);

CREATE TABLE invoice_lines (
    id         bigint PRIMARY KEY,
    invoice_id bigint NOT NULL,
    kind       text NOT NULL,
    amount     numeric(12,2) NOT NULL
);

INSERT INTO invoices VALUES
    (1, 'acme',    DATE '2026-01-05', 150.00),
    (2, 'acme',    DATE '2026-01-09',  80.50),
    (3, 'globex',  DATE '2026-02-01',  42.00),
    (4, 'initech', DATE '2026-02-11',   0.00);

INSERT INTO invoice_lines VALUES
    (10, 1, 'goods',    100.00),
    (11, 1, 'shipping',  50.00),
    (12, 2, 'goods',     80.00),
    (13, 3, 'goods',     40.00),
    (14, 3, 'tax',        2.00);

-- The view: every invoice with its line sums, split by kind, and whether
-- the header's total matches its lines.
CREATE MATERIALIZED VIEW invoice_balance AS
SELECT i.id,
       i.vendor,
       count(l.id)                                      AS lines,
       coalesce(sum(l.amount), 0)                       AS lines_total,
       sum(l.amount) FILTER (WHERE l.kind = 'goods')    AS goods,
       sum(l.amount) FILTER (WHERE l.kind <> 'goods')   AS other,
       i.total = coalesce(sum(l.amount), 0)             AS balanced
FROM invoices i
LEFT JOIN invoice_lines l ON l.invoice_id = i.id
GROUP BY i.id;

SELECT * FROM invoice_balance ORDER BY id;

-- Changes flow into the view as they commit.
BEGIN;
INSERT INTO invoice_lines VALUES (15, 2, 'tax', 0.50);
UPDATE invoices SET total = 40.00 WHERE id = 3;
DELETE FROM invoice_lines WHERE id = 14;
COMMIT;

SELECT * FROM invoice_balance ORDER BY id;

-- A per-vendor rollup.
CREATE MATERIALIZED VIEW vendor_totals AS
SELECT vendor, count(*) AS invoices, sum(total) AS total, min(issued) AS first, max(issued) AS last
FROM invoices
GROUP BY vendor;

SELECT * FROM vendor_totals ORDER BY vendor;
