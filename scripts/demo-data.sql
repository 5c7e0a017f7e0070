-- Demo shop data for the tools to explore: deterministic (fixed seed), a few thousand rows.
-- Re-running replaces it.
drop schema if exists shop cascade;
create schema shop;
select setseed(0.42);

create table shop.customers (
    id         integer primary key,
    name       text not null,
    email      text not null unique,
    country    text not null,
    created_at timestamptz not null
);
insert into shop.customers
select i,
       (array['Ada','Grace','Alan','Edsger','Barbara','Donald','Ken','Margaret','Linus','Frances'])[1 + i % 10]
         || ' ' || (array['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Thompson','Hamilton','Torvalds','Allen'])[1 + (i / 10) % 10],
       'customer' || i || '@example.com',
       (array['DE','FR','US','GB','NL','SE','JP','BR'])[1 + (i * 7) % 8],
       timestamptz '2025-01-01' + (i || ' hours')::interval
  from generate_series(1, 2000) i;

create table shop.products (
    id       integer primary key,
    name     text not null,
    category text not null,
    price    numeric(10, 2) not null check (price > 0)
);
insert into shop.products
select i,
       (array['Lamp','Chair','Desk','Mug','Pen','Notebook','Backpack','Monitor','Keyboard','Mouse'])[1 + i % 10] || ' ' || i,
       (array['home','office','electronics','stationery'])[1 + i % 4],
       round((5 + random() * 295)::numeric, 2)
  from generate_series(1, 100) i;

create table shop.orders (
    id          integer primary key,
    customer_id integer not null references shop.customers (id),
    ordered_at  timestamptz not null,
    status      text not null check (status in ('placed', 'shipped', 'delivered', 'returned'))
);
insert into shop.orders
select i,
       1 + floor(random() * 2000)::int,
       timestamptz '2025-06-01' + (floor(random() * 365 * 24) || ' hours')::interval,
       (array['placed','shipped','delivered','delivered','delivered','returned'])[1 + floor(random() * 6)::int]
  from generate_series(1, 5000) i;

create table shop.order_items (
    order_id   integer not null references shop.orders (id),
    product_id integer not null references shop.products (id),
    quantity   integer not null check (quantity > 0),
    unit_price numeric(10, 2) not null,
    primary key (order_id, product_id)
);
insert into shop.order_items
select o.id, p.id, 1 + floor(random() * 4)::int, p.price
  from shop.orders o
  cross join lateral (
      select distinct 1 + ((o.id * 31 + k * 17) % 100) as id from generate_series(1, 1 + o.id % 3) k
  ) pick
  join shop.products p on p.id = pick.id;

analyze shop.customers, shop.products, shop.orders, shop.order_items;
