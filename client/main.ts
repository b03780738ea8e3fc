import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n } from './i18n/index.ts'
import { router } from './router.ts'
import { startFullscreen } from './display/fullscreen.ts'
import { applyTheme } from './display/theme.ts'
import './styles/theme.css'

document.documentElement.lang = i18n.global.locale.value
applyTheme()
startFullscreen(location.search)
createApp(App).use(createPinia()).use(i18n).use(router).mount('#app')
