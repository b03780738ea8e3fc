import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'home', component: HomeView },
    // station and kiosk screens are the ones that run all shift: load them only where they are used
    { path: '/station', name: 'station', component: () => import('./views/StationView.vue') },
    { path: '/kiosk', name: 'kiosk', component: () => import('./views/KioskView.vue') },
    { path: '/admin', name: 'admin', component: () => import('./views/AdminView.vue') },
    { path: '/status', name: 'status', component: () => import('./views/StatusView.vue') },
    { path: '/upload', name: 'upload', component: () => import('./views/UploadView.vue') },
    { path: '/pair', name: 'pair', component: () => import('./views/PairView.vue') },
    { path: '/review', name: 'review', component: () => import('./views/ReviewView.vue') },
    { path: '/:pathMatch(.*)*', redirect: { name: 'home' } },
  ],
})
